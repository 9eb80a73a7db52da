using OrleansSweep.Reporting;
using OrleansSweep.Cli;
using OrleansSweep.Core.Results;
using OrleansSweep.TestSupport;
using OrleansSweep.Study;

namespace OrleansSweep.Cli.Tests;

public sealed class CliTests : IDisposable
{
    private readonly TemporaryDirectory _work = new("orleans-sweep-cli");
    private readonly StringWriter _output = new();

    public void Dispose() => _work.Dispose();

    private async Task<int> Run(params string[] args)
    {
        return await CliApp.InvokeAsync(args, TestConsole.Create(_output));
    }

    /// <summary>The output with whitespace runs folded: the console wraps long lines.</summary>
    private string Normalized() => System.Text.RegularExpressions.Regex.Replace(_output.ToString(), @"\s+", " ");

    private string WriteSpec(string json)
    {
        string path = _work.Combine($"spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public async Task Validate_accepts_a_good_spec_and_lists_every_problem_of_a_bad_one()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 64, testCount: 16);
        string good = WriteSpec(SyntheticFashion.SpecJson("ok", data, batchSizes: [16, 32], learningRates: ["2^-7", "2^-6"]));
        Assert.Equal(ExitCodes.Ok, await Run("validate", good));
        Assert.Contains("valid. Sweep ok: 4 trials", Normalized());

        string bad = WriteSpec(SyntheticFashion.SpecJson("bad", data, batchSizes: [0], learningRates: ["-1"]));
        Assert.Equal(ExitCodes.UserError, await Run("validate", bad, "--json"));
        using var verdict = System.Text.Json.JsonDocument.Parse(_output.ToString()[_output.ToString().IndexOf("{\n", StringComparison.Ordinal)..]);
        Assert.False(verdict.RootElement.GetProperty("valid").GetBoolean());
        var problems = verdict.RootElement.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Contains(problems, p => p.StartsWith("grid.batchSizes: 0", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("grid.baseLearningRates: -1", StringComparison.Ordinal));

        string missingData = WriteSpec(SyntheticFashion.SpecJson("nodata", _work.Combine("nowhere")));
        Assert.Equal(ExitCodes.UserError, await Run("validate", missingData));
        Assert.Contains("nowhere", Normalized());
    }

    [Theory]
    [InlineData("run")]
    [InlineData("export", "somewhere", "--format", "xml")]
    [InlineData("run", "spec.json", "--no-such-option")]
    [InlineData("frobnicate")]
    public async Task Usage_errors_exit_2_with_one_line_and_where_help_is(params string[] args)
    {
        Assert.Equal(ExitCodes.UserError, await Run(args));
        string line = Assert.Single(_output.ToString().TrimEnd('\n').Split('\n')); // one line, as the README promises
        Assert.StartsWith("error:", line);
        Assert.EndsWith("--help`).", line);
    }

    [Fact]
    public async Task A_corrupt_state_file_fails_resume_at_once_in_one_line_and_is_left_as_it_was()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 64, testCount: 16);
        string study = _work.Combine("corrupt-study");
        Directory.CreateDirectory(study);
        File.WriteAllText(Path.Combine(study, StudyLayout.SpecFileName), SyntheticFashion.SpecJson("corrupt", data, batchSizes: [16], epochs: 1));
        var garbage = new byte[8192];
        new Random(7).NextBytes(garbage);
        string state = Path.Combine(study, StudyLayout.StateFileName);
        File.WriteAllBytes(state, garbage);

        Assert.Equal(ExitCodes.UserError, await Run("resume", study, "--threads", "1"));
        string output = Normalized();
        Assert.Contains($"{state}: not a readable sweep state", output);
        Assert.DoesNotContain("internal error", output);
        Assert.Equal(garbage, File.ReadAllBytes(state)); // an existing study is never damaged
    }

    [Theory]
    [InlineData("grain_state", "state_name = 'sweep'", "the stored state 'sweep' of sweep/")]
    [InlineData("trial_results", "sequence = 1", "result record 1 of sweep 'damaged-rows'")]
    public async Task Damaged_rows_in_a_sound_state_file_fail_resume_at_once_in_one_line_and_change_nothing(string table, string row, string expected)
    {
        var (data, study, _) = TinyStudy();
        Assert.Equal(ExitCodes.Ok, await Run("run", WriteSpec(SyntheticFashion.SpecJson("damaged-rows", data, epochs: 1)), "--study", study, "--threads", "1"));
        string state = Path.Combine(study, StudyLayout.StateFileName);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={state};Pooling=False"))
        {
            connection.Open();
            using var damage = connection.CreateCommand();
            // The file stays a sound SQLite database; one row's payload becomes bytes no serializer wrote.
            damage.CommandText = $"UPDATE {table} SET payload = x'{Convert.ToHexString(Enumerable.Range(0, 64).Select(i => (byte)(i * 37 + 11)).ToArray())}' WHERE {row}";
            Assert.Equal(1, damage.ExecuteNonQuery());
        }
        // (SQLite's shared-memory index, state.db-shm, changes whenever the file is opened: it holds no data.)
        var before = Directory.GetFiles(study, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".lock", StringComparison.Ordinal) && !f.EndsWith("-shm", StringComparison.Ordinal))
            .ToDictionary(f => f, File.ReadAllBytes);

        var errors = new StringWriter();
        int exit = await CliApp.InvokeAsync(["resume", study, "--threads", "1"], TestConsole.Create(_output), CancellationToken.None, TestConsole.CreateErrors(errors));
        Assert.True(exit == ExitCodes.UserError, $"exit {exit}: {errors}{_output}");
        string[] lines = errors.ToString().TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.StartsWith($"error: {state}: {expected}", lines[0]);
        Assert.DoesNotContain("internal error", _output.ToString());
        Assert.All(before, file => Assert.Equal(file.Value, File.ReadAllBytes(file.Key))); // an existing study is never damaged
    }

    [Fact]
    public async Task Export_writes_a_studys_tables_as_csv_json_or_parquet()
    {
        string study = _work.Combine("study");
        var trials = OrleansSweep.Core.Trials.GridExpander.Expand(SampleResults.Spec);
        StudyFiles.Write(study, new StudyResults(SampleResults.Spec, trials,
            new Dictionary<string, TrialResult> { [trials[0].TrialId] = SampleResults.Completed(trials[0].TrialId, 0.75) }));
        string output = _work.Combine("grids.json");

        Assert.Equal(ExitCodes.Ok, await Run("export", study, "--what", "grids", "--format", "json", "-o", output));
        using var grids = System.Text.Json.JsonDocument.Parse(File.ReadAllText(output));
        Assert.Equal(0.75, grids.RootElement[0].GetProperty("cells")[0].GetProperty("medianTestAccuracy").GetDouble());

        Assert.Equal(ExitCodes.Ok, await Run("export", study));
        Assert.Contains(trials[0].TrialId + ",none,16,", _output.ToString());
        Assert.Equal(ExitCodes.UserError, await Run("export", _work.Combine("missing")));
        Assert.Contains("spec.json: missing", Normalized());

        string parquet = _work.Combine("results.parquet");
        Assert.Equal(ExitCodes.Ok, await Run("export", study, "--format", "parquet", "-o", parquet));
        byte[] bytes = File.ReadAllBytes(parquet);
        Assert.Equal("PAR1"u8.ToArray(), bytes[..4]); // a Parquet file begins and ends with its magic
        Assert.Equal("PAR1"u8.ToArray(), bytes[^4..]);
        Assert.Empty(Directory.GetFiles(_work.Path, "*.tmp"));
        // Binary to a terminal or a text pipe helps no one: a file is asked for, by name.
        var errors = new StringWriter();
        Assert.Equal(ExitCodes.UserError, await CliApp.InvokeAsync(["export", study, "--format", "parquet"], TestConsole.Create(_output), errors: TestConsole.CreateErrors(errors)));
        Assert.Equal("error: --output: --format parquet writes a binary file; give one with -o FILE.parquet.", errors.ToString().TrimEnd('\n'));
    }

    [Fact]
    public async Task Run_trains_the_grid_prints_the_table_and_writes_the_study()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 256, testCount: 50);
        string spec = WriteSpec(SyntheticFashion.SpecJson("cli-run", data, batchSizes: [16, 32], learningRates: ["2^-7", "2^4"], epochs: 1));
        string study = _work.Combine("study");

        int exit = await Run("run", spec, "--study", study, "--threads", "1");

        string output = _output.ToString();
        Assert.True(exit == ExitCodes.Ok, output);
        Assert.Contains("[4/4]", output);
        Assert.Contains("BN none: test accuracy", output);
        Assert.Contains("diverged", output);
        Assert.Contains("2 converged, 2 diverged, 0 failed", output);
        var csv = File.ReadAllLines(Path.Combine(study, StudyLayout.ResultsCsvFileName));
        Assert.Equal(5, csv.Length);
        Assert.Contains(csv, line => line.StartsWith("bs16-lr2^-7-none-s0,none,16,") && line.Contains(",completed,"));
        Assert.Contains(csv, line => line.StartsWith("bs32-lr2^4-none-s0,") && line.Contains(",diverged,"));
        Assert.True(File.Exists(Path.Combine(study, StudyLayout.ResultsJsonFileName)));
        Assert.True(File.Exists(Path.Combine(study, StudyLayout.SpecFileName)));
        // Every result appended once to the ledger, in the sweep's recording order.
        var ledger = new StudyLedger(Path.Combine(study, StudyLayout.ResultsLedgerFileName)).Read();
        Assert.Equal([1L, 2, 3, 4], ledger.Select(l => l.Sequence));
        Assert.Equal(4, ledger.Select(l => l.Result.TrialId).Distinct().Count());
        // One TensorBoard run per trial, under the study (`tensorboard --logdir <study>/tensorboard`).
        Assert.Equal(ledger.Select(l => l.Result.TrialId).Order(),
            Directory.GetDirectories(Path.Combine(study, StudyLayout.TensorBoardDirectoryName)).Select(Path.GetFileName).Order());
        Assert.All(ledger, l => Assert.NotEmpty(Directory.GetFiles(Path.Combine(study, StudyLayout.TensorBoardDirectoryName, l.Result.TrialId), "events.out.tfevents.*")));
    }

    /// <summary>
    /// A grid's numbers do not depend on packing: with the threads fixed by the spec, one trial at a time and two side by
    /// side give the same epoch losses and accuracies, bit for bit, and each result records its threads.
    /// </summary>
    [Fact]
    public async Task The_same_grid_packed_one_or_two_to_a_cpu_gives_identical_results()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 256, testCount: 50);
        string spec = _work.Combine("packing.json");
        File.WriteAllText(spec, SyntheticFashion.SpecJson("packing", data, batchSizes: [16, 32], learningRates: ["2^-7", "2^-5"], epochs: 2)
            .Replace("\"schedule\": \"constant\"", "\"schedule\": \"constant\", \"threads\": 1"));
        Assert.Equal(ExitCodes.Ok, await Run("run", spec, "--study", _work.Combine("one"), "--slots", "1", "--threads", "2", "--page-port", "0"));
        Assert.Equal(ExitCodes.Ok, await Run("run", spec, "--study", _work.Combine("two"), "--slots", "2", "--page-port", "0"));
        static Dictionary<string, string> Epochs(string study) => StudyFiles.Read(study).Results.ToDictionary(r => r.Key, r =>
            $"{r.Value.Threads}: " + string.Join(";", r.Value.Epochs.Select(e => $"{e.TrainLoss:R},{e.TestLoss:R},{e.TestAccuracy:R},{e.TrainAccuracy:R}")));
        var one = Epochs(_work.Combine("one"));
        Assert.Equal(4, one.Count);
        Assert.All(one.Values, v => Assert.StartsWith("1: ", v)); // the spec's threads, not the silo's --threads 2
        Assert.Equal(one, Epochs(_work.Combine("two")));

        // Packing by batch (--batch-per-slot 16 on 2 slots): a trial of m = 32 takes both slots, so it never trains beside
        // another. When each trained comes from its TensorBoard run: the wall times of its first and last summaries, which
        // lie inside the trial's real interval (so a missed overlap is possible, a false one is not; without the batch
        // rule this fails, tools/check-reliability-guards.sh). The numbers stay the same.
        string byBatch = _work.Combine("by-batch");
        Assert.Equal(ExitCodes.Ok, await Run("run", spec, "--study", byBatch, "--slots", "2", "--batch-per-slot", "16", "--page-port", "0"));
        Assert.Equal(one, Epochs(byBatch));
        var trained = Directory.GetDirectories(Path.Combine(byBatch, StudyLayout.TensorBoardDirectoryName)).ToDictionary(dir => Path.GetFileName(dir), dir =>
        {
            var times = Directory.GetFiles(dir, "events.out.tfevents.*").SelectMany(TensorBoardWallTimes).ToList();
            return (Start: times.Min(), End: times.Max());
        });
        Assert.Equal(4, trained.Count);
        static bool Overlap((double Start, double End) a, (double Start, double End) b) => a.Start < b.End && b.Start < a.End;
        foreach (var (id, span) in trained.Where(t => t.Key.StartsWith("bs32-", StringComparison.Ordinal)))
            Assert.All(trained.Where(t => t.Key != id), other => Assert.False(Overlap(span, other.Value), $"{id} trained beside {other.Key}"));
    }

    /// <summary>The wall time of every summary in a TensorBoard event file (TFRecord framing: length, its CRC, data, the data's CRC).</summary>
    private static IEnumerable<double> TensorBoardWallTimes(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        for (int offset = 0; offset + 12 <= bytes.Length;)
        {
            int length = checked((int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(offset, 8)));
            var e = Tensorboard.Event.Parser.ParseFrom(bytes, offset + 12, length);
            if (e.Summary is not null) yield return e.WallTime; // TorchSharp stamps the file-version record in .NET ticks, not seconds
            offset += 16 + length;
        }
    }

    [Fact]
    public async Task Running_the_same_spec_again_keeps_finished_trials_without_retraining()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 128, testCount: 20);
        string spec = WriteSpec(SyntheticFashion.SpecJson("cli-again", data, batchSizes: [16], learningRates: ["2^-7"], epochs: 2));
        string study = _work.Combine("study");

        Assert.Equal(ExitCodes.Ok, await Run("run", spec, "--study", study, "--threads", "1"));
        string first = File.ReadAllText(Path.Combine(study, StudyLayout.ResultsCsvFileName));
        Assert.True(File.Exists(Path.Combine(study, "trials", "bs16-lr2^-7-none-s0", "final.pt")));
        Assert.Equal(ExitCodes.Ok, await Run("run", spec, "--study", study, "--threads", "1"));
        Assert.Equal(first, File.ReadAllText(Path.Combine(study, StudyLayout.ResultsCsvFileName))); // same seconds: not rerun
    }

    [Fact]
    public async Task An_interrupted_sweep_resumes_from_its_study_and_keeps_what_was_finished_and_one_study_runs_once_at_a_time()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 256, testCount: 20);
        string spec = WriteSpec(SyntheticFashion.SpecJson("cli-resume", data, batchSizes: [16, 32], learningRates: ["2^-8", "2^-7"], epochs: 3));
        string study = _work.Combine("study");
        string csv = Path.Combine(study, StudyLayout.ResultsCsvFileName);

        using var interrupt = new CancellationTokenSource();
        var running = CliApp.InvokeAsync(["run", spec, "--study", study, "--threads", "1"], TestConsole.Create(_output), interrupt.Token);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!(File.Exists(csv) && File.ReadAllText(csv).Contains(",completed,")) && DateTime.UtcNow < deadline) await Task.Delay(50);
        // A second run of the study while the first trains would train its trials twice: refused, nothing touched.
        Assert.Equal(ExitCodes.UserError, await Run("resume", study, "--threads", "1"));
        Assert.Contains($"{study}: in use by another run or resume of this study", _output.ToString());
        interrupt.Cancel(); // Ctrl-C after the first finished trial
        Assert.Equal(ExitCodes.Cancelled, await running);
        var finishedBefore = File.ReadAllLines(csv).Where(l => l.Contains(",completed,")).ToList();
        Assert.NotEmpty(finishedBefore);

        Assert.Equal(ExitCodes.Ok, await Run("resume", study, "--threads", "1"));

        var after = File.ReadAllLines(csv).Skip(1).ToList();
        Assert.Equal(4, after.Count);
        Assert.All(after, l => Assert.Contains(",completed,", l));
        Assert.All(finishedBefore, l => Assert.Contains(l, after)); // kept as they were, not retrained
    }

    [Fact]
    public async Task Resume_of_a_directory_that_is_not_a_study_is_a_clear_error()
    {
        Assert.Equal(ExitCodes.UserError, await Run("resume", _work.Path));
        Assert.Contains("not a study directory (spec.json is missing", _output.ToString());
    }

    /// <summary>Tiny generated data, and where a study of it goes (its results.csv too).</summary>
    private (string Data, string Study, string Csv) TinyStudy()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 64, testCount: 10);
        string study = _work.Combine("study");
        return (data, study, Path.Combine(study, StudyLayout.ResultsCsvFileName));
    }

    [Fact]
    public async Task A_study_grows_by_grid_values_running_only_the_new_cells_and_keeping_the_finished_rows()
    {
        var (data, study, csv) = TinyStudy();
        Assert.Equal(ExitCodes.Ok, await Run("run", WriteSpec(SyntheticFashion.SpecJson("grows", data, epochs: 1)), "--study", study, "--threads", "1"));
        var before = File.ReadAllLines(csv).Skip(1).ToList();
        Assert.Single(before);

        _output.GetStringBuilder().Clear();
        string grown = WriteSpec(SyntheticFashion.SpecJson("grows", data, epochs: 1, seeds: [0, 1], learningRates: ["2^-6", "2^-7"]));
        Assert.Equal(ExitCodes.Ok, await Run("run", grown, "--study", study, "--threads", "1"));
        Assert.Contains("Extending sweep grows: 3 new cells", Normalized());
        var after = File.ReadAllLines(csv).Skip(1).ToList();
        Assert.Equal(4, after.Count);
        Assert.Contains(before[0], after); // byte-identical: not retrained
        Assert.Equal([0, 1], Core.Specs.SweepSpecLoader.LoadFile(Path.Combine(study, StudyLayout.SpecFileName)).Grid.Seeds); // the study's spec grew too
    }

    [Fact]
    public async Task A_study_written_before_the_result_log_resumes_with_its_finished_results_kept()
    {
        var (data, study, csv) = TinyStudy();
        string spec = WriteSpec(SyntheticFashion.SpecJson("old-format", data, epochs: 1, learningRates: ["2^-6", "2^-7"]));
        Assert.Equal(ExitCodes.Ok, await Run("run", spec, "--study", study, "--threads", "1"));
        var rows = File.ReadAllLines(csv).Skip(1).ToList();
        Assert.Equal(2, rows.Count);

        // The state as the version before the result log kept it: every status and result in one value (format 1),
        // with the second trial not finished yet, and no result rows.
        string kept = OldFormatStudy.Rewrite(Path.Combine(study, StudyLayout.StateFileName), unfinished: "bs32-lr2^-7-none-s0");
        Assert.Equal(ExitCodes.Ok, await Run("resume", study, "--threads", "1"));
        var after = File.ReadAllLines(csv).Skip(1).ToList();
        Assert.Equal(2, after.Count);
        Assert.Contains(rows.Single(r => r.StartsWith(kept + ",", StringComparison.Ordinal)), after); // byte-identical: kept
        Assert.Contains(after, r => r.StartsWith("bs32-lr2^-7-none-s0,", StringComparison.Ordinal) && r.Contains(",completed,"));
    }

    [Fact]
    public async Task A_study_whose_state_holds_its_spec_format_2_resumes_and_grows_with_its_results_kept()
    {
        var (data, study, csv) = TinyStudy();
        Assert.Equal(ExitCodes.Ok, await Run("run", WriteSpec(SyntheticFashion.SpecJson("format-2", data, epochs: 1)), "--study", study, "--threads", "1"));
        var rows = File.ReadAllLines(csv).Skip(1).ToList();
        OldFormatStudy.RewriteAsFormat2(Path.Combine(study, StudyLayout.StateFileName));
        Assert.Equal(ExitCodes.Ok, await Run("run", WriteSpec(SyntheticFashion.SpecJson("format-2", data, epochs: 1, seeds: [0, 1])), "--study", study, "--threads", "1"));
        var after = File.ReadAllLines(csv).Skip(1).ToList();
        Assert.Equal(2, after.Count);
        Assert.Contains(rows.Single(), after); // byte-identical: kept, not retrained
    }

    [Fact]
    public async Task Errors_go_to_standard_error_in_one_line_with_a_huge_value_elided()
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        string study = _work.Combine("no-such-study");
        // `export ... > grids.csv` must never write an error into the CSV.
        Assert.Equal(ExitCodes.UserError, await CliApp.InvokeAsync(["export", study, "--what", "grids"], TestConsole.Create(output), errors: TestConsole.CreateErrors(errors)));
        Assert.Equal("", output.ToString());
        Assert.StartsWith("error: ", errors.ToString());
        Assert.Single(errors.ToString().TrimEnd().Split('\n'));

        string huge = _work.Combine(new string('x', 200_000) + ".json");
        errors.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.UserError, await CliApp.InvokeAsync(["validate", huge], TestConsole.Create(output), errors: TestConsole.CreateErrors(errors)));
        Assert.Equal("", output.ToString());
        Assert.InRange(errors.ToString().Length, 1, 2 * ErrorText.MaxLength);
        Assert.Contains("characters elided", errors.ToString());
    }

    [Fact]
    public async Task A_study_of_another_spec_is_refused()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 64, testCount: 10);
        string study = _work.Combine("study");
        Assert.Equal(ExitCodes.Ok, await Run("run", WriteSpec(SyntheticFashion.SpecJson("same-name", data, epochs: 1)), "--study", study, "--threads", "1"));
        Assert.Equal(ExitCodes.UserError, await Run("run", WriteSpec(SyntheticFashion.SpecJson("same-name", data, epochs: 2)), "--study", study));
        Assert.Contains("holds a study of a different spec", _output.ToString());
    }

    [Fact]
    public async Task Train_runs_one_trial_without_orleans_and_prints_json()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 128, testCount: 20);
        string spec = WriteSpec(SyntheticFashion.SpecJson("cli-train", data, batchSizes: [16, 32], learningRates: ["2^-7"], epochs: 1));

        Assert.Equal(ExitCodes.UserError, await Run("train", spec));
        Assert.Contains("has 2 trials; pick one with --trial (e.g. --trial bs16-lr2^-7-none-s0)", _output.ToString());
        _output.GetStringBuilder().Clear();

        Assert.Equal(ExitCodes.Ok, await Run("train", spec, "--trial", "bs32-lr2^-7-none-s0", "--threads", "1", "--json"));
        using var result = System.Text.Json.JsonDocument.Parse(_output.ToString());
        Assert.Equal("bs32-lr2^-7-none-s0", result.RootElement.GetProperty("trialId").GetString());
        Assert.Equal(1, result.RootElement.GetProperty("epochs").GetArrayLength());
    }

    [Fact]
    public async Task Train_checkpoints_every_epoch_resumes_from_them_and_exports_the_final_weights()
    {
        string data = _work.Combine("data-ckpt");
        SyntheticFashion.Write(data, trainCount: 128, testCount: 20);
        string spec = WriteSpec(SyntheticFashion.SpecJson("cli-ckpt", data, batchSizes: [32], learningRates: ["2^-7"], epochs: 2));
        string checkpoints = _work.Combine("ckpt"), weights = _work.Combine("final.pt");
        string[] train = ["train", spec, "--threads", "1", "--checkpoints", checkpoints, "--weights", weights, "--json"];

        Assert.Equal(ExitCodes.Ok, await Run(train));
        var first = System.Text.Json.JsonSerializer.Deserialize<TrialResult>(_output.ToString(), OrleansSweep.Core.Specs.SweepSpecLoader.JsonOptions)!;
        Assert.Null(first.ResumedFromEpoch);
        Assert.Equal(["epoch-00002.ckpt", "epoch-00001.ckpt"], Directory.GetFiles(checkpoints).Select(Path.GetFileName).Order().Reverse());
        // PyTorch's zip container; its entries (not the zip's timestamps) are the weights.
        static List<(string, string)> Entries(string path)
        {
            using var zip = System.IO.Compression.ZipFile.OpenRead(path);
            return [.. zip.Entries.Select(e =>
            {
                using var stream = e.Open();
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                return (e.FullName, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(copy.ToArray())));
            })];
        }
        var exported = Entries(weights);
        Assert.Contains(exported, e => e.Item1.EndsWith("data.pkl", StringComparison.Ordinal));

        // Again with the same checkpoints: nothing left to train, the same epochs, the same final weights.
        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.Ok, await Run(train));
        var second = System.Text.Json.JsonSerializer.Deserialize<TrialResult>(_output.ToString(), OrleansSweep.Core.Specs.SweepSpecLoader.JsonOptions)!;
        Assert.Equal(2, second.ResumedFromEpoch);
        Assert.Equal(first.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)), second.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)));
        Assert.Equal(first.FinalTrainFit, second.FinalTrainFit);
        Assert.Equal(exported, Entries(weights));
    }

    [Fact]
    public async Task Report_writes_every_figure_as_png_and_svg_and_one_report_page_naming_them()
    {
        string study = _work.Combine("study-report");
        var spec = OrleansSweep.Core.Specs.SweepSpecLoader.Parse("""
            { "name": "report", "dataset": { "name": "fashion-mnist" }, "model": { "architecture": "resnet8" }, "training": { "epochs": 1 },
              "grid": { "batchSizes": [8, 64], "baseLearningRates": ["2^-8", "2^-6"], "bnModes": ["none"], "seeds": [0, 1] } }
            """);
        var trials = OrleansSweep.Core.Trials.GridExpander.Expand(spec);
        StudyFiles.Write(study, new StudyResults(spec, trials, trials.ToDictionary(t => t.TrialId, t => SampleResults.Completed(t.TrialId, 0.7 + 0.01 * t.Seed))));

        Assert.Equal(ExitCodes.Ok, await Run("report", study));
        string html = Path.Combine(study, "report", "report.html");
        Assert.Contains($"Report: {html}", Normalized());
        string page = File.ReadAllText(html);
        foreach (string figure in new[] { "accuracy-vs-batch-none", "accuracy-vs-lr-none", "stability-none" })
        {
            Assert.True(new FileInfo(Path.Combine(study, "report", figure + ".png")).Length > 1000, figure);
            Assert.Contains("<svg", File.ReadAllText(Path.Combine(study, "report", figure + ".svg")));
            Assert.Contains(figure, page);
        }
        Assert.Contains("2 seeds", page); // every caption says over how many seeds
    }

    [Fact]
    public async Task Train_with_an_unknown_trial_lists_the_real_ones()
    {
        string spec = WriteSpec(SyntheticFashion.SpecJson("cli-train2", "/tmp"));
        Assert.Equal(ExitCodes.UserError, await Run("train", spec, "--trial", "nope"));
        Assert.Contains("--trial: 'nope' is not a trial of", _output.ToString());
    }

    [Fact]
    public async Task A_bad_spec_is_one_clear_line_exit_2_and_leaves_nothing_behind()
    {
        string spec = WriteSpec(SyntheticFashion.SpecJson("bad", "/tmp").Replace("\"epochs\": 2", "\"epochs\": 2, \"epoch\": 3"));
        string study = _work.Combine("never");

        int exit = await Run("run", spec, "--study", study);

        Assert.Equal(ExitCodes.UserError, exit);
        string output = _output.ToString().Trim();
        Assert.Equal($"error: {spec}: unknown field 'training.epoch' (check its spelling; see README, \"Spec format\").", output);
        Assert.False(Directory.Exists(study));
    }

    [Fact]
    public async Task A_missing_dataset_says_how_to_get_it()
    {
        string spec = WriteSpec(SyntheticFashion.SpecJson("nodata", _work.Combine("no-such-dir")));
        string study = _work.Combine("never");

        int exit = await Run("run", spec, "--study", study);

        Assert.Equal(ExitCodes.UserError, exit);
        string output = System.Text.RegularExpressions.Regex.Replace(_output.ToString(), @"\s+", " "); // the console wraps long lines
        Assert.Contains("Fashion-MNIST not found", output);
        Assert.True(output.Contains("apt-get install dataset-fashion-mnist"), output);
        Assert.DoesNotContain("   at ", _output.ToString()); // no stack trace
        Assert.False(Directory.Exists(study));
    }

    [Fact]
    public async Task A_study_path_that_is_a_file_is_refused()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 64, testCount: 10);
        string spec = WriteSpec(SyntheticFashion.SpecJson("file-study", data));
        string file = _work.Combine("a-file");
        File.WriteAllText(file, "x");

        Assert.Equal(ExitCodes.UserError, await Run("run", spec, "--study", file));
        Assert.Contains("is a file (expected a study directory)", _output.ToString());
        Assert.Equal(ExitCodes.UserError, await Run("run", spec, "--study", ""));
        Assert.Contains("--study: empty, or holding a line break or NUL (expected a directory path such as studies/file-study).", _output.ToString());
    }

    [Theory]
    [InlineData("--slots", "0", "--slots: 0 (expected >= 1).")]
    [InlineData("--threads", "-1", "--threads: -1 (expected >= 1).")]
    public async Task Bad_options_are_user_errors(string option, string value, string message)
    {
        string spec = WriteSpec(SyntheticFashion.SpecJson("opts", "/tmp"));
        Assert.Equal(ExitCodes.UserError, await Run("run", spec, option, value));
        Assert.Contains(message, _output.ToString());
    }

    [Fact]
    public async Task An_unreachable_cluster_is_reported_with_exit_69()
    {
        string spec = WriteSpec(SyntheticFashion.SpecJson("unreachable", "/tmp"));
        Assert.Equal(ExitCodes.Unavailable, await Run("submit", spec, "--redis", "127.0.0.1:1,connectTimeout=500", "--cluster-id", "none"));
        Assert.Contains("cannot reach Redis at 127.0.0.1:1", _output.ToString());
        Assert.DoesNotContain("   at ", _output.ToString());
    }

    [Fact]
    public async Task A_cluster_with_no_silo_up_is_reported_as_such_within_the_retry_window()
    {
        // The client must give up by itself: a caller's cancellation (the bound here, 2 minutes) would exit 130 instead.
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        int exit = await CliApp.InvokeAsync(["list", "--redis", SiloProcesses.Redis, "--cluster-id", "no-silo-" + Guid.NewGuid().ToString("N")],
            TestConsole.Create(_output), bound.Token);
        Assert.Equal(ExitCodes.Unavailable, exit);
        Assert.Contains("is registered in Redis", _output.ToString());
        Assert.Contains("start one with `orleans-sweep silo`", System.Text.RegularExpressions.Regex.Replace(_output.ToString(), @"\s+", " "));
    }

    [Fact]
    public async Task A_silo_port_in_use_is_one_clear_line()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        Assert.Equal(ExitCodes.UserError, await Run("silo", "--silo-port", port.ToString()));
        Assert.Contains($"--silo-port: 127.0.0.1:{port} is already in use (another silo?); pick a free port.", _output.ToString());
    }

    [Fact]
    public async Task A_silo_without_redis_says_so_with_exit_69()
    {
        Assert.Equal(ExitCodes.Unavailable, await Run("silo", "--redis", "127.0.0.1:1,connectTimeout=500",
            "--silo-port", Hosting.LoopbackPorts.Free().ToString(), "--gateway-port", Hosting.LoopbackPorts.Free().ToString()));
        Assert.Contains("cannot reach Redis at 127.0.0.1:1", _output.ToString());
        Assert.DoesNotContain("   at ", _output.ToString());
    }

    [Fact]
    public async Task Help_lists_run_with_an_example()
    {
        Assert.Equal(0, await Run("run", "--help"));
        Assert.Contains("orleans-sweep run configs/quickstart.json", _output.ToString());
    }

    /// <summary>README: "each has --help with an example"; every command, cluster ones included.</summary>
    [Theory]
    [InlineData("run")] [InlineData("resume")] [InlineData("train")] [InlineData("validate")] [InlineData("report")]
    [InlineData("export")] [InlineData("verify")] [InlineData("silo")] [InlineData("submit")] [InlineData("watch")]
    [InlineData("status")] [InlineData("list")] [InlineData("pause")] [InlineData("continue")] [InlineData("cancel")]
    public async Task Every_commands_help_has_an_example(string command)
    {
        Assert.Equal(0, await Run(command, "--help"));
        Assert.Contains($"Example: orleans-sweep {command}", Normalized());
    }

    [Fact]
    public async Task An_unknown_command_fails()
    {
        Assert.NotEqual(0, await Run("frobnicate"));
    }

    [Fact]
    public async Task Verify_computes_the_findings_from_a_studys_files_and_says_which_hold()
    {
        var spec = OrleansSweep.Core.Specs.SweepSpecLoader.Parse("""
            { "name": "verify", "dataset": { "name": "fashion-mnist" }, "model": { "architecture": "resnet8" }, "training": { "epochs": 1 },
              "grid": { "batchSizes": [8, 64, 512], "baseLearningRates": ["2^-10", "2^-8", "2^-6"], "bnModes": ["none"], "seeds": [0, 1, 2] } }
            """);
        var trials = OrleansSweep.Core.Trials.GridExpander.Expand(spec);
        // Stable LRs 3 / 2 / 1 as the batch grows; the best cell at m = 8 ... or at m = 512 in the second study; three seeds alike.
        TrialResult Result(OrleansSweep.Core.Trials.TrialSpec t, int bestBatch) =>
            spec.Grid.BaseLearningRates.ToList().IndexOf(t.BaseLearningRate) >= 3 - spec.Grid.BatchSizes.ToList().IndexOf(t.BatchSize)
                ? new TrialResult { TrialId = t.TrialId, Status = TrialStatus.Diverged, DivergedAtEpoch = 1 }
                : SampleResults.Completed(t.TrialId, t.BatchSize == bestBatch ? 0.85 : 0.8);
        string good = _work.Combine("verify-good"), bad = _work.Combine("verify-bad"), partial = _work.Combine("verify-partial");
        StudyFiles.Write(good, new StudyResults(spec, trials, trials.ToDictionary(t => t.TrialId, t => Result(t, 8))));
        StudyFiles.Write(bad, new StudyResults(spec, trials, trials.ToDictionary(t => t.TrialId, t => Result(t, 512))));
        StudyFiles.Write(partial, new StudyResults(spec, trials, trials.Skip(1).ToDictionary(t => t.TrialId, t => Result(t, 8))));

        Assert.Equal(ExitCodes.Ok, await Run("verify", good, "--json"));
        using (var json = System.Text.Json.JsonDocument.Parse(_output.ToString()))
        {
            var verdicts = json.RootElement.GetProperty("findings").EnumerateArray()
                .ToDictionary(f => f.GetProperty("id").GetString()!, f => f.GetProperty("verdict").GetString());
            Assert.Equal("holds", verdicts["small-batches-best-without-bn"]);
            Assert.Equal("holds", verdicts["stable-range-narrows[none]"]);
            Assert.Equal("not-applicable", verdicts["large-batch-sharper"]);
            // Each judged finding carries its margin, its noise and the seeds they come from.
            var best = json.RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("id").GetString() == "small-batches-best-without-bn");
            Assert.Equal((5.0, 0.0, 3), (Math.Round(best.GetProperty("margin").GetDouble(), 9), best.GetProperty("noise").GetDouble(), best.GetProperty("seeds").GetInt32()));
            Assert.Equal("accuracy points", best.GetProperty("unit").GetString());
            Assert.Equal("defaults", json.RootElement.GetProperty("rulesFrom").GetString());
        }

        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.FindingsNotReproduced, await Run("verify", bad));
        Assert.Contains("does not hold small-batches-best-without-bn", Normalized());
        Assert.Contains("best 85.0% at m = 512", Normalized());
        Assert.Contains("margin -5 accuracy points, noise +/- 0 (90% interval over 3 seeds)", Normalized());

        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.UserError, await Run("verify", partial));
        Assert.Contains("the study is not finished (1 of 27 trials have no result)", Normalized());

        // The same study on two seeds: as clear, but too few seeds for a verdict (findings.minSeeds, 3 by default).
        var twoSeeds = spec with { Grid = spec.Grid with { Seeds = [0, 1] } };
        var twoTrials = OrleansSweep.Core.Trials.GridExpander.Expand(twoSeeds);
        string two = _work.Combine("verify-two-seeds");
        StudyFiles.Write(two, new StudyResults(twoSeeds, twoTrials, twoTrials.ToDictionary(t => t.TrialId, t => Result(t, 8))));
        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.FindingsNotReproduced, await Run("verify", two));
        Assert.Contains("2 seeds: cannot be judged small-batches-best-without-bn", Normalized());
        Assert.Contains("noise +/- 0 (90% interval over 2 seeds); 2 seeds, clear of zero, but a verdict needs 3 (findings.minSeeds)", Normalized());

        // One batch size, one LR: no finding of the papers can be judged on it; exit 2 and one line saying so.
        var single = spec with { Grid = spec.Grid with { BatchSizes = [64], BaseLearningRates = [Math.Pow(2, -8)] } };
        var singleTrials = OrleansSweep.Core.Trials.GridExpander.Expand(single);
        string none = _work.Combine("verify-none");
        StudyFiles.Write(none, new StudyResults(single, singleTrials, singleTrials.ToDictionary(t => t.TrialId, t => SampleResults.Completed(t.TrialId, 0.8))));
        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.UserError, await Run("verify", none));
        Assert.Contains("error: none of the papers' findings applies to this study.", Normalized());
        Assert.DoesNotContain("holds", Normalized());
    }

    [Fact]
    public async Task Export_writes_results_as_json_and_interpolations_as_json_or_csv()
    {
        string study = _work.Combine("study-interpolated");
        var trials = OrleansSweep.Core.Trials.GridExpander.Expand(SampleResults.Spec);
        var results = trials.Take(2).ToDictionary(t => t.TrialId, t => SampleResults.Completed(t.TrialId, 0.75));
        results["interpolation-sb-lb"] = new TrialResult
        {
            TrialId = "interpolation-sb-lb", Status = TrialStatus.Completed,
            Interpolation = new InterpolationResult("sb-lb", trials[0].TrialId, trials[1].TrialId,
                [new InterpolationPoint(-1, 2.5, 0.2, 2.6, 0.19), new InterpolationPoint(0, 0.4, 0.9, 0.5, 0.85), new InterpolationPoint(1, 0.6, 0.8, 0.7, 0.78)]),
        };
        StudyFiles.Write(study, new StudyResults(SampleResults.Spec, trials, results));

        Assert.Equal(ExitCodes.Ok, await Run("export", study, "--what", "results", "--format", "json"));
        using (var json = System.Text.Json.JsonDocument.Parse(_output.ToString()))
        {
            var rows = json.RootElement.GetProperty("trials");
            Assert.Equal(trials.Count, rows.GetArrayLength()); // every cell, finished or not
            Assert.Equal(0.75, rows[0].GetProperty("result").GetProperty("finalTestAccuracy").GetDouble());
            Assert.False(rows[2].TryGetProperty("result", out _)); // a pending cell has no result
            Assert.Equal("r", json.RootElement.GetProperty("sweep").GetString());
        }

        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.Ok, await Run("export", study, "--what", "interpolations", "--format", "json"));
        using (var json = System.Text.Json.JsonDocument.Parse(_output.ToString()))
        {
            var line = Assert.Single(json.RootElement.EnumerateArray());
            Assert.Equal("sb-lb", line.GetProperty("name").GetString());
            Assert.Equal([-1.0, 0.0, 1.0], line.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("alpha").GetDouble()));
        }

        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.Ok, await Run("export", study, "--what", "interpolations"));
        var csv = _output.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal("name,small_trial,large_trial,alpha,train_loss,train_accuracy,test_loss,test_accuracy", csv[0]);
        Assert.Equal($"sb-lb,{trials[0].TrialId},{trials[1].TrialId},0,0.4,0.9,0.5,0.85", csv[2]);
        Assert.Equal(4, csv.Length);
    }
}
