using System.Globalization;
using System.Text;
using System.Text.Json;
using CsvHelper;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

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

    /// <summary>A CSV column: its header and how a row gives its value.</summary>
    private sealed record Column<T>(string Header, Func<T, string> Value);

    /// <summary>results.csv's columns before the analysis columns a spec may add.</summary>
    public static IReadOnlyList<string> CsvColumns => [.. BaseTrialColumns.Select(c => c.Header)];

    /// <summary>grids.csv's columns before the analysis columns a spec may add.</summary>
    public static IReadOnlyList<string> GridCsvColumns => [.. BaseGridColumns.Select(c => c.Header)];

    private static readonly IReadOnlyList<Column<(TrialSpec Trial, TrialResult? Result)>> BaseTrialColumns =
    [
        new("trial_id", r => r.Trial.TrialId), new("bn_mode", r => r.Trial.BnMode), new("batch_size", r => Number(r.Trial.BatchSize)),
        new("base_lr", r => Number(r.Trial.BaseLearningRate)), new("lr", r => Number(r.Trial.LearningRate)), new("seed", r => Number(r.Trial.Seed)),
        new("status", r => (r.Result?.Status ?? TrialStatus.Pending).ToString().ToLowerInvariant()),
        new("final_test_accuracy", r => Number(r.Result?.FinalTestAccuracy)), new("final_test_loss", r => Number(r.Result?.FinalTestLoss)),
        new("epochs_run", r => Number(r.Result?.Epochs.Count)), new("diverged_at_epoch", r => Number(r.Result?.DivergedAtEpoch)),
        new("divergence_loss", r => Number(r.Result?.DivergenceLoss)), new("seconds", r => Number(r.Result?.Seconds)),
        new("device", r => r.Result?.Device ?? ""), new("failure_reason", r => r.Result?.FailureReason ?? ""),
    ];

    private static IReadOnlyList<Column<(TrialSpec Trial, TrialResult? Result)>> TrialColumns(SweepSpec spec) =>
    [
        .. BaseTrialColumns,
        .. SharpnessKeys(spec).Select(k => new Column<(TrialSpec Trial, TrialResult? Result)>(
            $"sharpness_{k}", r => Number(r.Result?.Analysis?.Sharpness.FirstOrDefault(m => m.Key == k)?.Sharpness))),
        .. MeasuresHessian(spec)
            ? new[] { new Column<(TrialSpec Trial, TrialResult? Result)>("hessian_top_eigenvalue", r => Number(r.Result?.Analysis?.Hessian?.Eigenvalue)) }
            : [],
    ];

    private static readonly IReadOnlyList<Column<(string BnMode, GridCell Cell)>> BaseGridColumns =
    [
        new("bn_mode", r => r.BnMode), new("batch_size", r => Number(r.Cell.BatchSize)), new("base_lr", r => Number(r.Cell.BaseLearningRate)),
        new("seeds", r => Number(r.Cell.Seeds)), new("completed", r => Number(r.Cell.Completed)), new("diverged", r => Number(r.Cell.Diverged)),
        new("failed", r => Number(r.Cell.Failed)), new("cancelled", r => Number(r.Cell.Cancelled)), new("status", r => r.Cell.Status),
        new("converged_fraction", r => Number(r.Cell.ConvergedFraction)), new("median_test_accuracy", r => Number(r.Cell.MedianAccuracy)),
        new("min_test_accuracy", r => Number(r.Cell.MinAccuracy)), new("max_test_accuracy", r => Number(r.Cell.MaxAccuracy)),
        new("median_test_loss", r => Number(r.Cell.MedianTestLoss)),
    ];

    private static IReadOnlyList<Column<(string BnMode, GridCell Cell)>> GridColumns(SweepSpec spec) =>
    [
        .. BaseGridColumns,
        .. SharpnessKeys(spec).Select(k => new Column<(string BnMode, GridCell Cell)>($"median_sharpness_{k}", r => Number(r.Cell.MedianSharpness?.GetValueOrDefault(k)))),
        .. MeasuresHessian(spec)
            ? new[] { new Column<(string BnMode, GridCell Cell)>("median_hessian_top_eigenvalue", r => Number(r.Cell.MedianHessianEigenvalue)) }
            : [],
    ];

    private static readonly IReadOnlyList<Column<(InterpolationResult Line, InterpolationPoint Point)>> InterpolationColumns =
    [
        new("name", r => r.Line.Name), new("small_trial", r => r.Line.SmallTrialId), new("large_trial", r => r.Line.LargeTrialId),
        new("alpha", r => Number(r.Point.Alpha)), new("train_loss", r => Number(r.Point.TrainLoss)), new("train_accuracy", r => Number(r.Point.TrainAccuracy)),
        new("test_loss", r => Number(r.Point.TestLoss)), new("test_accuracy", r => Number(r.Point.TestAccuracy)),
    ];

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

    /// <summary>The sweep's interpolation results, by name.</summary>
    public static IReadOnlyList<InterpolationResult> Interpolations(IReadOnlyDictionary<string, TrialResult> results) =>
        [.. results.Values.Select(r => r.Interpolation).OfType<InterpolationResult>().OrderBy(i => i.Name, StringComparer.Ordinal)];

    public static string InterpolationsToCsv(IReadOnlyList<InterpolationResult> interpolations) =>
        Csv(interpolations.SelectMany(i => i.Points.Select(p => (i, p))), InterpolationColumns);

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
        Csv(grids.SelectMany(g => Enumerable.Range(0, g.BatchSizes.Count)
            .SelectMany(b => Enumerable.Range(0, g.BaseLearningRates.Count).Select(l => (g.BnMode, g[b, l])))), GridColumns(spec));

    public static string ToJson(StudyResults study) => JsonSerializer.Serialize(new ResultsDocument(study.Spec.Name, study.Spec,
        [.. study.Trials.Select(t => new TrialRow(t.TrialId, t.BnMode, t.BatchSize, t.BaseLearningRate, t.LearningRate, t.Seed,
            study.Results.GetValueOrDefault(t.TrialId)))]), StudyJsonContext.WithProductOptions.ResultsDocument);

    public static string ToCsv(StudyResults study) =>
        Csv(study.Trials.Select(t => (t, study.Results.GetValueOrDefault(t.TrialId))), TrialColumns(study.Spec));

    /// <summary>
    /// Write to a temporary file, then rename: a reader never sees half a file. A path that cannot be written (its
    /// directory missing, a directory in its place, no permission, a full disk) is a user error naming it.
    /// </summary>
    public static void WriteAtomically(string path, string contents)
    {
        OutputPath.Check(path);
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllText(temporary, contents, new UTF8Encoding(false));
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
    private static string Csv<T>(IEnumerable<T> rows, IReadOnlyList<Column<T>> columns)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = CsvWriter.Create(text, CsvFormat, leaveOpen: true))
        {
            csv.WriteRecord([.. columns.Select(c => c.Header)]);
            foreach (var row in rows) csv.WriteRecord([.. columns.Select(c => c.Value(row))]);
        }
        return text.ToString();
    }

    private static string Number(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? "";
    private static string Number(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";
}
