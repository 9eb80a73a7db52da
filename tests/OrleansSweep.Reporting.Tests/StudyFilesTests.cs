using static OrleansSweep.TestSupport.SampleResults;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Study;

namespace OrleansSweep.Reporting.Tests;

public class StudyFilesTests
{
    [Fact]
    public void Grid_files_hold_one_row_per_cell_with_status_and_the_best_lr_per_batch()
    {
        var results = new Dictionary<string, TrialResult>
        {
            ["bs16-lr2^-8-none-s0"] = Completed("bs16-lr2^-8-none-s0", 0.80),
            ["bs16-lr2^-8-none-s1"] = new() { TrialId = "bs16-lr2^-8-none-s1", Status = TrialStatus.Diverged, DivergedAtEpoch = 1 },
            ["bs64-lr2^-6-none-s0"] = new() { TrialId = "bs64-lr2^-6-none-s0", Status = TrialStatus.Diverged, DivergedAtEpoch = 1 },
        };
        var grids = ResultGrid.Build(Spec, results);

        var lines = StudyFiles.GridsToCsv(grids, Spec).TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(string.Join(',', StudyFiles.GridCsvColumns), lines[0]);
        Assert.Equal(1 + 2 * 2, lines.Length);
        Assert.Equal("none,16,0.00390625,3,1,1,0,0,unstable,0.5,0.8,0.8,0.8,0.19999999999999996", lines[1]);
        Assert.Equal("none,64,0.015625,3,0,1,0,0,diverged,0,,,,", lines[4]);

        using var json = System.Text.Json.JsonDocument.Parse(StudyFiles.GridsToJson(grids));
        var best = json.RootElement[0].GetProperty("bestLearningRatePerBatch");
        Assert.Equal(0.00390625, best[0].GetProperty("baseLearningRate").GetDouble());
        Assert.False(best[1].TryGetProperty("baseLearningRate", out _)); // no seed converged at m = 64
    }

    [Fact]
    public void Study_files_hold_every_trial_and_no_temporary_files_remain()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"study-{Guid.NewGuid():N}");
        try
        {
            var trials = GridExpander.Expand(Spec);
            var results = new Dictionary<string, TrialResult> { ["bs16-lr2^-8-none-s0"] = Completed("bs16-lr2^-8-none-s0", 0.8125) };
            StudyFiles.Write(directory, new StudyResults(Spec, trials, results));

            var lines = File.ReadAllLines(Path.Combine(directory, StudyLayout.ResultsCsvFileName));
            Assert.Equal(string.Join(',', StudyFiles.CsvColumns), lines[0]);
            Assert.Equal(trials.Count + 1, lines.Length);
            Assert.StartsWith("bs16-lr2^-8-none-s0,none,16,0.00390625,0.0625,0,completed,0.8125,", lines[1]);
            Assert.Contains(",pending,", lines[2]);

            string json = File.ReadAllText(Path.Combine(directory, StudyLayout.ResultsJsonFileName));
            using var document = System.Text.Json.JsonDocument.Parse(json);
            Assert.Equal(trials.Count, document.RootElement.GetProperty("trials").GetArrayLength());
            Assert.Equal(0.8125, document.RootElement.GetProperty("trials")[0].GetProperty("result").GetProperty("finalTestAccuracy").GetDouble());
            Assert.Equal(SpecFingerprint.Compute(Spec),
                SpecFingerprint.Compute(SweepSpecLoader.LoadFile(Path.Combine(directory, StudyLayout.SpecFileName))));
            Assert.Empty(Directory.GetFiles(directory, "*.tmp"));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Fact]
    public void Csv_fields_with_commas_or_quotes_are_quoted()
    {
        var trials = GridExpander.Expand(Spec);
        var results = new Dictionary<string, TrialResult>
        {
            [trials[0].TrialId] = new() { TrialId = trials[0].TrialId, Status = TrialStatus.Failed, FailureReason = "bad \"file\", really" },
        };
        string csv = StudyFiles.ToCsv(new StudyResults(Spec, trials, results));
        Assert.Contains(",\"bad \"\"file\"\", really\"", csv);
    }

    [Fact]
    public void Analysis_adds_sharpness_and_eigenvalue_columns_and_interpolations_get_their_own_files()
    {
        var spec = Spec with
        {
            Analysis = new AnalysisSpec { Sharpness = new SharpnessSpec { Spaces = ["full"], Epsilons = [1e-3, 5e-4] }, Hessian = new HessianSpec() },
        };
        var trials = GridExpander.Expand(spec);
        var analysed = Completed(trials[0].TrialId, 0.8) with
        {
            Analysis = new TrialAnalysis
            {
                Sharpness = [new("full", 1e-3, 12.5, 0.1, 0.2, 10, 11, 1), new("full", 5e-4, 3.25, 0.1, 0.15, 10, 11, 1)],
                Hessian = new EigenvalueMeasurement(42, 7, true, 1),
            },
        };
        var line = new TrialResult
        {
            TrialId = "interpolation-sb-lb", Status = TrialStatus.Completed,
            Interpolation = new InterpolationResult("sb-lb", "a", "b", [new InterpolationPoint(-1, 2, 0.1, 2.5, 0.1), new InterpolationPoint(0, 0.1, 0.9, 0.3, 0.8)]),
        };
        var results = new Dictionary<string, TrialResult> { [analysed.TrialId] = analysed, [line.TrialId] = line };

        var csv = StudyFiles.ToCsv(new StudyResults(spec, trials, results)).Split('\n');
        Assert.EndsWith(",sharpness_full@0.001,sharpness_full@0.0005,hessian_top_eigenvalue", csv[0].TrimEnd('\r'));
        Assert.EndsWith(",12.5,3.25,42", csv[1].TrimEnd('\r'));
        var grids = StudyFiles.GridsToCsv(ResultGrid.Build(spec, results), spec).Split('\n');
        Assert.EndsWith(",median_sharpness_full@0.001,median_sharpness_full@0.0005,median_hessian_top_eigenvalue", grids[0].TrimEnd('\r'));
        Assert.EndsWith(",12.5,3.25,42", grids[1].TrimEnd('\r'));

        string directory = Path.Combine(Path.GetTempPath(), $"study-{Guid.NewGuid():N}");
        try
        {
            StudyFiles.Write(directory, new StudyResults(spec, trials, results));
            var rows = File.ReadAllLines(Path.Combine(directory, StudyLayout.InterpolationsCsvFileName));
            Assert.Equal(["name,small_trial,large_trial,alpha,train_loss,train_accuracy,test_loss,test_accuracy", "sb-lb,a,b,-1,2,0.1,2.5,0.1", "sb-lb,a,b,0,0.1,0.9,0.3,0.8"], rows);
            Assert.True(File.Exists(Path.Combine(directory, StudyLayout.InterpolationsJsonFileName)));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }
    [Fact]
    public void The_ledger_appends_whole_lines_a_torn_last_line_is_skipped_then_cut_off_and_readers_add_its_lines_to_the_tables()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"study-{Guid.NewGuid():N}");
        try
        {
            var trials = GridExpander.Expand(Spec);
            StudyFiles.Write(directory, new StudyResults(Spec, trials, new Dictionary<string, TrialResult> { [trials[0].TrialId] = Completed(trials[0].TrialId, 0.5) }));
            var layout = new StudyLayout(directory);
            var ledger = new StudyLedger(layout.ResultsLedger);
            ledger.Replace([new(1, Completed(trials[0].TrialId, 0.5))]);
            ledger.Append([new(2, Completed(trials[1].TrialId, 0.625)), new(3, Completed(trials[2].TrialId, 0.75))]);
            Assert.Equal(3, File.ReadAllLines(layout.ResultsLedger).Length);

            // The tables hold one result; a reader sees the three the ledger holds.
            var read = StudyFiles.Read(directory);
            Assert.Equal([0.5, 0.625, 0.75], trials.Take(3).Select(t => read.Results[t.TrialId].FinalTestAccuracy!.Value));

            // A process killed mid-append leaves half a line: readers skip it, a writer cuts it off and appends after.
            string torn = """{"sequence":4,"result":{"trialId":""" + '"' + trials[3].TrialId;
            File.AppendAllText(layout.ResultsLedger, torn);
            Assert.Equal([1L, 2, 3], ledger.Read().Select(l => l.Sequence));
            Assert.Equal(3, StudyFiles.Read(directory).Results.Count);
            Assert.Equal([1L, 2, 3], ledger.OpenForAppend().Select(l => l.Sequence));
            ledger.Append([new(4, Completed(trials[3].TrialId, 0.875))]);
            Assert.Equal([1L, 2, 3, 4], ledger.Read().Select(l => l.Sequence));
            Assert.All(File.ReadAllLines(layout.ResultsLedger), line => System.Text.Json.JsonDocument.Parse(line).Dispose());

            // A whole line that is not a record names the file and the line.
            File.AppendAllText(layout.ResultsLedger, "{\"sequence\":\"five\"}\n");
            var error = Assert.Throws<StudyReadException>(() => StudyFiles.Read(directory));
            Assert.Contains("results.jsonl: line 5", error.Message);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    public static TheoryData<string> Tables => new() { "results", "grids", "interpolations" };

    [Theory]
    [MemberData(nameof(Tables))]
    public async Task Parquet_export_holds_the_csv_columns_typed_with_missing_values_null(string what)
    {
        var trials = GridExpander.Expand(Spec);
        var results = new Dictionary<string, TrialResult>
        {
            [trials[0].TrialId] = Completed(trials[0].TrialId, 0.8125),
            [trials[1].TrialId] = new() { TrialId = trials[1].TrialId, Status = TrialStatus.Diverged, DivergedAtEpoch = 1, DivergenceLoss = double.PositiveInfinity },
            [trials[2].TrialId] = new() { TrialId = trials[2].TrialId, Status = TrialStatus.Failed, FailureReason = "bad data, \"quoted\"" },
            ["interpolation-sb-lb"] = new()
            {
                TrialId = "interpolation-sb-lb", Status = TrialStatus.Completed,
                Interpolation = new InterpolationResult("sb-lb", trials[0].TrialId, trials[3].TrialId,
                    [new InterpolationPoint(-1, 2, 0.1, 2.5, 0.1), new InterpolationPoint(0.5, 0.1, 0.9, 0.3, 0.8)]),
            },
        };
        var study = new StudyResults(Spec, trials, results);
        byte[] parquet = await StudyFiles.ExportParquetAsync(study, what);
        string[][] csv = ReadCsv(StudyFiles.Export(study, what, "csv"));

        await using var reader = await Parquet.ParquetReader.CreateAsync(new MemoryStream(parquet));
        var fields = reader.Schema.DataFields;
        Assert.Equal(csv[0], fields.Select(f => f.Name));
        using var group = reader.OpenRowGroupReader(0);
        Assert.Equal(csv.Length - 1, group.RowCount);
        for (int c = 0; c < fields.Length; c++)
        {
            var field = fields[c];
            string[] texts;
            if (field.ClrType == typeof(int))
            {
                var values = new int?[group.RowCount];
                await group.ReadAsync<int>(field, values);
                texts = [.. values.Select(v => v?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "")];
            }
            else if (field.ClrType == typeof(double))
            {
                var values = new double?[group.RowCount];
                await group.ReadAsync<double>(field, values);
                texts = [.. values.Select(v => v?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "")];
            }
            else
            {
                var values = new string[group.RowCount];
                await group.ReadAsync(field, values);
                texts = [.. values.Select(v => v ?? "")];
            }
            // Every cell equals the CSV's; numbers are typed (a column of numbers is never text).
            Assert.Equal(csv.Skip(1).Select(row => row[c]), texts);
            if (field.Name is "batch_size" or "seed" or "seeds") Assert.Equal(typeof(int), field.ClrType);
            if (field.Name is "base_lr" or "final_test_accuracy" or "alpha" or "median_test_accuracy") Assert.Equal(typeof(double), field.ClrType);
        }
        if (what == "results")
        {
            var accuracy = reader.Schema.FindDataField("final_test_accuracy");
            var values = new double?[group.RowCount];
            await group.ReadAsync<double>(accuracy, values);
            Assert.Equal(0.8125, values[0]);
            Assert.Null(values[1]); // diverged: no accuracy, null rather than 0 or NaN
        }
    }

    /// <summary>The CSV's rows, header first, read back by the library that wrote them.</summary>
    private static string[][] ReadCsv(string text)
    {
        using var csv = CsvHelper.CsvReader.FromText(text, new CsvHelper.CsvReaderOptions());
        var rows = new List<string[]>();
        while (csv.Read()) rows.Add([.. Enumerable.Range(0, csv.FieldCount).Select(csv.GetString)]);
        return [[.. csv.Headers], .. rows];
    }
}
