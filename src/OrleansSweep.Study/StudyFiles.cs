using System.Globalization;
using System.Text;
using System.Text.Json;
using CsvHelper;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using Parquet;
using Parquet.Schema;
using TrialCells = (OrleansSweep.Core.Trials.TrialSpec Trial, OrleansSweep.Core.Results.TrialResult? Result);
using GridCells = (string BnMode, OrleansSweep.Core.Results.GridCell Cell);
using InterpolationCells = (OrleansSweep.Core.Results.InterpolationResult Line, OrleansSweep.Core.Results.InterpolationPoint Point);

namespace OrleansSweep.Study;

/// <summary>What a finished (or partly finished) sweep writes into its study directory.</summary>
public sealed record StudyResults(SweepSpec Spec, IReadOnlyList<TrialSpec> Trials, IReadOnlyDictionary<string, TrialResult> Results);

/// <summary>results.json: the spec and every trial of the grid with its result (none yet: omitted).</summary>
public sealed record ResultsDocument(string Sweep, SweepSpec Spec, IReadOnlyList<TrialRow> Trials);

/// <summary>One trial of results.json: the cell it is, and its result.</summary>
public sealed record TrialRow(string TrialId, string BnMode, int BatchSize, double BaseLearningRate, double LearningRate, int Seed, TrialResult? Result);

/// <summary>A study directory that cannot be read as one (a file missing, a document of another version).</summary>
public sealed class StudyReadException(string message) : Core.UserErrorException(message);

/// <summary>
/// The study's documents, written atomically and read back: results.json / results.csv (one row per trial),
/// grids.json / grids.csv (one row per cell, seeds folded), interpolations.json / interpolations.csv. Each CSV is
/// written from one list of columns, header and value side by side, so they cannot drift apart.
/// </summary>
public static class StudyFiles
{
    /// <summary>One "full@0.001"-style key per sharpness measure the spec asks for, in spec order.</summary>
    public static IReadOnlyList<string> SharpnessKeys(SweepSpec spec) => spec.Analysis?.Sharpness is { } s
        ? [.. s.Spaces.SelectMany(space => s.Epsilons.Select(eps => SharpnessMeasurement.KeyFor(space, eps)))]
        : [];

    private static bool MeasuresHessian(SweepSpec spec) => spec.Analysis?.Hessian is not null;

    /// <summary>results.csv's columns before the analysis columns a spec may add.</summary>
    public static IReadOnlyList<string> CsvColumns => [.. BaseTrialColumns.Select(c => c.Header)];

    /// <summary>grids.csv's columns before the analysis columns a spec may add.</summary>
    public static IReadOnlyList<string> GridCsvColumns => [.. BaseGridColumns.Select(c => c.Header)];

    private static readonly IReadOnlyList<TableColumn<TrialCells>> BaseTrialColumns =
    [
        Text<TrialCells>("trial_id", r => r.Trial.TrialId), Text<TrialCells>("bn_mode", r => r.Trial.BnMode),
        Int<TrialCells>("batch_size", r => r.Trial.BatchSize),
        Real<TrialCells>("base_lr", r => r.Trial.BaseLearningRate), Real<TrialCells>("lr", r => r.Trial.LearningRate),
        Int<TrialCells>("seed", r => r.Trial.Seed),
        Text<TrialCells>("status", r => (r.Result?.Status ?? TrialStatus.Pending).ToString().ToLowerInvariant()),
        Real<TrialCells>("final_test_accuracy", r => r.Result?.FinalTestAccuracy),
        Real<TrialCells>("final_test_loss", r => r.Result?.FinalTestLoss),
        Real<TrialCells>("final_train_loss", r => r.Result?.FinalTrainFit?.Loss),
        Real<TrialCells>("final_train_accuracy", r => r.Result?.FinalTrainFit?.Accuracy),
        Int<TrialCells>("epochs_run", r => r.Result?.Epochs.Count), Int<TrialCells>("diverged_at_epoch", r => r.Result?.DivergedAtEpoch),
        Real<TrialCells>("divergence_loss", r => r.Result?.DivergenceLoss), Real<TrialCells>("seconds", r => r.Result?.Seconds),
        Text<TrialCells>("device", r => r.Result?.Device), Int<TrialCells>("threads", r => r.Result?.Threads),
        Text<TrialCells>("failure_reason", r => r.Result?.FailureReason),
    ];

    private static IReadOnlyList<TableColumn<TrialCells>> TrialColumns(SweepSpec spec) =>
    [
        .. BaseTrialColumns,
        .. SharpnessKeys(spec).Select(k => Real<TrialCells>(
            $"sharpness_{k}", r => r.Result?.Analysis?.Sharpness.FirstOrDefault(m => m.Key == k)?.Sharpness)),
        .. MeasuresHessian(spec)
            ? new[] { Real<TrialCells>("hessian_top_eigenvalue", r => r.Result?.Analysis?.Hessian?.Eigenvalue) }
            : [],
    ];

    private static readonly IReadOnlyList<TableColumn<GridCells>> BaseGridColumns =
    [
        Text<GridCells>("bn_mode", r => r.BnMode), Int<GridCells>("batch_size", r => r.Cell.BatchSize),
        Real<GridCells>("base_lr", r => r.Cell.BaseLearningRate),
        Int<GridCells>("seeds", r => r.Cell.Seeds), Int<GridCells>("completed", r => r.Cell.Completed),
        Int<GridCells>("diverged", r => r.Cell.Diverged), Int<GridCells>("failed", r => r.Cell.Failed),
        Int<GridCells>("cancelled", r => r.Cell.Cancelled), Text<GridCells>("status", r => r.Cell.Status),
        Real<GridCells>("converged_fraction", r => r.Cell.ConvergedFraction),
        Real<GridCells>("median_test_accuracy", r => r.Cell.MedianAccuracy),
        Real<GridCells>("min_test_accuracy", r => r.Cell.MinAccuracy), Real<GridCells>("max_test_accuracy", r => r.Cell.MaxAccuracy),
        Real<GridCells>("median_test_loss", r => r.Cell.MedianTestLoss),
    ];

    private static IReadOnlyList<TableColumn<GridCells>> GridColumns(SweepSpec spec) =>
    [
        .. BaseGridColumns,
        .. SharpnessKeys(spec).Select(k => Real<GridCells>($"median_sharpness_{k}", r => r.Cell.MedianSharpness?.GetValueOrDefault(k))),
        .. MeasuresHessian(spec)
            ? new[] { Real<GridCells>("median_hessian_top_eigenvalue", r => r.Cell.MedianHessianEigenvalue) }
            : [],
    ];

    private static readonly IReadOnlyList<TableColumn<InterpolationCells>> InterpolationColumns =
    [
        Text<InterpolationCells>("name", r => r.Line.Name),
        Text<InterpolationCells>("small_trial", r => r.Line.SmallTrialId),
        Text<InterpolationCells>("large_trial", r => r.Line.LargeTrialId),
        Real<InterpolationCells>("alpha", r => r.Point.Alpha),
        Real<InterpolationCells>("train_loss", r => r.Point.TrainLoss),
        Real<InterpolationCells>("train_accuracy", r => r.Point.TrainAccuracy),
        Real<InterpolationCells>("test_loss", r => r.Point.TestLoss),
        Real<InterpolationCells>("test_accuracy", r => r.Point.TestAccuracy),
    ];

    private static TableColumn<T> Text<T>(string header, Func<T, string?> value) => new(header, ColumnType.Text, r => value(r));
    private static TableColumn<T> Int<T>(string header, Func<T, int?> value) => new(header, ColumnType.Integer, r => value(r));
    private static TableColumn<T> Real<T>(string header, Func<T, double?> value) => new(header, ColumnType.Real, r => value(r));

    public static void Write(string studyDirectory, StudyResults study)
    {
        var layout = new StudyLayout(studyDirectory);
        Directory.CreateDirectory(studyDirectory);
        WriteAtomically(layout.Spec, SweepSpecLoader.ToJson(study.Spec));
        WriteAtomically(layout.ResultsJson, ToJson(study));
        WriteAtomically(layout.ResultsCsv, ToCsv(study));
        var grids = ResultGrid.Build(study.Spec, study.Results);
        WriteAtomically(layout.GridsJson, GridsToJson(grids));
        WriteAtomically(layout.GridsCsv, GridsToCsv(grids, study.Spec));
        var interpolations = Interpolations(study.Results);
        if (interpolations.Count > 0)
        {
            WriteAtomically(layout.InterpolationsJson, JsonSerializer.Serialize(interpolations, SweepSpecLoader.JsonOptions));
            WriteAtomically(layout.InterpolationsCsv, InterpolationsToCsv(interpolations));
        }
    }

    /// <summary>
    /// Reads a study directory back: its spec, every trial's result (results.json, and the results.jsonl lines appended
    /// after it was last written) and the interpolations.
    /// </summary>
    public static StudyResults Read(string studyDirectory)
    {
        var layout = new StudyLayout(studyDirectory);
        foreach (string required in new[] { layout.Spec, layout.ResultsJson })
            if (!File.Exists(required))
                throw new StudyReadException($"{required}: missing (expected a study directory written by `orleans-sweep run`, which writes " +
                                             $"{StudyLayout.SpecFileName} and {StudyLayout.ResultsJsonFileName}).");
        var spec = SweepSpecLoader.LoadFile(layout.Spec);
        var results = new Dictionary<string, TrialResult>();
        try
        {
            var document = JsonSerializer.Deserialize(File.ReadAllText(layout.ResultsJson), StudyJsonContext.WithProductOptions.ResultsDocument)
                           ?? throw new JsonException("the document is empty");
            foreach (var trial in document.Trials ?? throw new JsonException("it has no trials"))
                if (trial.Result is { } result) results[trial.TrialId] = result;
            // The tables are refreshed now and then; the ledger holds every result recorded since (see StudyLedger).
            foreach (var line in new StudyLedger(layout.ResultsLedger).Read()) results[line.Result.TrialId] = line.Result;
            if (File.Exists(layout.InterpolationsJson))
                foreach (var line in JsonSerializer.Deserialize<List<InterpolationResult>>(File.ReadAllText(layout.InterpolationsJson), SweepSpecLoader.JsonOptions) ?? [])
                    results[InterpolationPlanner.JobIdFor(line.Name)] = new TrialResult
                    {
                        TrialId = InterpolationPlanner.JobIdFor(line.Name), Status = TrialStatus.Completed, Interpolation = line,
                    };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or NotSupportedException)
        {
            throw new StudyReadException($"{layout.ResultsJson}: not a results file of this version ({e.Message}).");
        }
        return new StudyResults(spec, GridExpander.Expand(spec), results);
    }

    /// <summary>One of the study's tables as text: results, grids or interpolations, as csv or json.</summary>
    public static string Export(StudyResults study, string what, string format)
    {
        bool json = format switch
        {
            "json" => true,
            "csv" => false,
            _ => throw new ArgumentException($"format '{format}' (expected csv or json).", nameof(format)),
        };
        return what switch
        {
            "results" => json ? ToJson(study) : ToCsv(study),
            "grids" => json ? GridsToJson(ResultGrid.Build(study.Spec, study.Results)) : GridsToCsv(ResultGrid.Build(study.Spec, study.Results), study.Spec),
            "interpolations" => json
                ? JsonSerializer.Serialize(Interpolations(study.Results), SweepSpecLoader.JsonOptions)
                : InterpolationsToCsv(Interpolations(study.Results)),
            _ => throw new ArgumentException($"'{what}' (expected results, grids or interpolations).", nameof(what)),
        };
    }

    /// <summary>
    /// One of the study's tables as a Parquet file: the CSV's columns, typed (integers, reals, text; missing values
    /// null), for pandas, polars and R.
    /// </summary>
    public static Task<byte[]> ExportParquetAsync(StudyResults study, string what) => what switch
    {
        "results" => ParquetAsync([.. study.Trials.Select(t => (t, study.Results.GetValueOrDefault(t.TrialId)))], TrialColumns(study.Spec)),
        "grids" => ParquetAsync(GridRows(ResultGrid.Build(study.Spec, study.Results)), GridColumns(study.Spec)),
        "interpolations" => ParquetAsync(InterpolationRows(Interpolations(study.Results)), InterpolationColumns),
        _ => throw new ArgumentException($"'{what}' (expected results, grids or interpolations).", nameof(what)),
    };

    private static IReadOnlyList<GridCells> GridRows(IReadOnlyList<ResultGrid> grids) =>
    [
        .. grids.SelectMany(g => Enumerable.Range(0, g.BatchSizes.Count)
            .SelectMany(b => Enumerable.Range(0, g.BaseLearningRates.Count).Select(l => (g.BnMode, g[b, l])))),
    ];

    private static IReadOnlyList<InterpolationCells> InterpolationRows(IReadOnlyList<InterpolationResult> interpolations) =>
        [.. interpolations.SelectMany(i => i.Points.Select(p => (i, p)))];

    /// <summary>The sweep's interpolation results, by name.</summary>
    public static IReadOnlyList<InterpolationResult> Interpolations(IReadOnlyDictionary<string, TrialResult> results) =>
        [.. results.Values.Select(r => r.Interpolation).OfType<InterpolationResult>().OrderBy(i => i.Name, StringComparer.Ordinal)];

    public static string InterpolationsToCsv(IReadOnlyList<InterpolationResult> interpolations) =>
        Csv(InterpolationRows(interpolations), InterpolationColumns);

    /// <summary>The aggregated grids (seeds folded: median, min, max) with the best base LR per batch size.</summary>
    public static string GridsToJson(IReadOnlyList<ResultGrid> grids) => JsonSerializer.Serialize(grids.Select(g => new
    {
        bnMode = g.BnMode,
        batchSizes = g.BatchSizes,
        baseLearningRates = g.BaseLearningRates,
        cells = Enumerable.Range(0, g.BatchSizes.Count).SelectMany(b => Enumerable.Range(0, g.BaseLearningRates.Count).Select(l => g[b, l]))
            .Select(c => new
            {
                batchSize = c.BatchSize, baseLearningRate = c.BaseLearningRate, c.Seeds, c.Completed, c.Diverged, c.Failed, c.Cancelled,
                status = c.Status, convergedFraction = c.ConvergedFraction, medianTestAccuracy = c.MedianAccuracy,
                minTestAccuracy = c.MinAccuracy, maxTestAccuracy = c.MaxAccuracy, medianTestLoss = c.MedianTestLoss,
                medianSharpness = c.MedianSharpness, medianHessianEigenvalue = c.MedianHessianEigenvalue,
            }),
        bestLearningRatePerBatch = g.BestLearningRatePerBatch().Select(b => new
        {
            batchSize = b.BatchSize, baseLearningRate = b.BestBaseLearningRate, medianTestAccuracy = b.Accuracy,
        }),
    }), SweepSpecLoader.JsonOptions);

    public static string GridsToCsv(IReadOnlyList<ResultGrid> grids, SweepSpec spec) =>
        Csv(GridRows(grids), GridColumns(spec));

    public static string ToJson(StudyResults study) => JsonSerializer.Serialize(new ResultsDocument(study.Spec.Name, study.Spec,
        [.. study.Trials.Select(t => new TrialRow(t.TrialId, t.BnMode, t.BatchSize, t.BaseLearningRate, t.LearningRate, t.Seed,
            study.Results.GetValueOrDefault(t.TrialId)))]), StudyJsonContext.WithProductOptions.ResultsDocument);

    public static string ToCsv(StudyResults study) =>
        Csv(study.Trials.Select(t => (t, study.Results.GetValueOrDefault(t.TrialId))), TrialColumns(study.Spec));

    /// <summary>
    /// Write to a temporary file, then rename: a reader never sees half a file. A path that cannot be written (its
    /// directory missing, a directory in its place, no permission, a full disk) is a user error naming it.
    /// </summary>
    public static void WriteAtomically(string path, string contents) => WriteAtomically(path, new UTF8Encoding(false).GetBytes(contents));

    /// <inheritdoc cref="WriteAtomically(string, string)"/>
    public static void WriteAtomically(string path, byte[] contents)
    {
        OutputPath.Check(path);
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(temporary, contents);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputPathException($"{path}: cannot be written ({e.Message.TrimEnd('.')}).");
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>RFC 4180 quoting; "\n" line ends as the study files always had.</summary>
    private static readonly CsvWriterOptions CsvFormat = new() { NewLine = "\n" };

    /// <summary>A header line from the columns, then one line per row; CsvHelper quotes what needs quoting.</summary>
    private static string Csv<T>(IEnumerable<T> rows, IReadOnlyList<TableColumn<T>> columns)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = CsvWriter.Create(text, CsvFormat, leaveOpen: true))
        {
            csv.WriteRecord([.. columns.Select(c => c.Header)]);
            foreach (var row in rows) csv.WriteRecord([.. columns.Select(c => c.Text(row))]);
        }
        return text.ToString();
    }

    /// <summary>
    /// The same columns as a Parquet file, one row group: integers as INT32, reals as DOUBLE, text as UTF-8 strings, each
    /// nullable (a missing value is null, where the CSV has an empty field).
    /// </summary>
    private static async Task<byte[]> ParquetAsync<T>(IReadOnlyList<T> rows, IReadOnlyList<TableColumn<T>> columns)
    {
        var fields = columns.Select(c => new DataField(c.Header, c.Type switch
        {
            ColumnType.Integer => typeof(int?),
            ColumnType.Real => typeof(double?),
            _ => typeof(string),
        }, isNullable: true)).ToArray();
        using var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), stream))
        using (var group = writer.CreateRowGroup())
        {
            for (int i = 0; i < columns.Count; i++)
            {
                var column = columns[i];
                switch (column.Type)
                {
                    case ColumnType.Integer:
                        await group.WriteAsync<int>(fields[i], rows.Select(r => (int?)column.Value(r)).ToArray());
                        break;
                    case ColumnType.Real:
                        await group.WriteAsync<double>(fields[i], rows.Select(r => (double?)column.Value(r)).ToArray());
                        break;
                    default:
                        await group.WriteAsync(fields[i], rows.Select(r => (string?)column.Value(r)).ToArray()!);
                        break;
                }
            }
        }
        return stream.ToArray();
    }
}

/// <summary>How a table column is typed in Parquet (CSV writes each as text).</summary>
internal enum ColumnType { Text, Integer, Real }

/// <summary>
/// A column of one of the study's tables: its header, its type and how a row gives its value (a string, an int or a
/// double, or null for none). CSV and Parquet are written from the same list, so they cannot drift apart.
/// </summary>
internal sealed record TableColumn<T>(string Header, ColumnType Type, Func<T, object?> Value)
{
    public string Text(T row) => Value(row) switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        int n => n.ToString(CultureInfo.InvariantCulture),
        var other => other.ToString() ?? "",
    };
}
