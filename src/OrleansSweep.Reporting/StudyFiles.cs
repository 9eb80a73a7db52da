using System.Globalization;
using System.Text;
using System.Text.Json;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Reporting;

/// <summary>What a finished (or partly finished) sweep writes into its study directory.</summary>
public sealed record StudyResults(SweepSpec Spec, IReadOnlyList<TrialSpec> Trials, IReadOnlyDictionary<string, TrialResult> Results);

/// <summary>results.json (spec + every trial's result) and results.csv (one row per trial), written atomically.</summary>
public static class StudyFiles
{
    public const string JsonFileName = "results.json";
    public const string CsvFileName = "results.csv";
    public const string SpecFileName = "spec.json";
    public const string GridsJsonFileName = "grids.json";
    public const string GridsCsvFileName = "grids.csv";
    public const string InterpolationsCsvFileName = "interpolations.csv";
    public const string InterpolationsJsonFileName = "interpolations.json";

    /// <summary>One "sharpness_full@0.001"-style key per sharpness measure the spec asks for, in spec order.</summary>
    public static IReadOnlyList<string> SharpnessKeys(SweepSpec spec) => spec.Analysis?.Sharpness is { } s
        ? [.. s.Spaces.SelectMany(space => s.Epsilons.Select(eps => SharpnessMeasurement.KeyFor(space, eps)))]
        : [];

    private static bool MeasuresHessian(SweepSpec spec) => spec.Analysis?.Hessian is not null;

    /// <summary>Analysis columns appended to the trial and grid CSVs when the spec measures them.</summary>
    private static IEnumerable<string> AnalysisColumns(SweepSpec spec, string prefix) =>
        SharpnessKeys(spec).Select(k => $"{prefix}sharpness_{k}").Concat(MeasuresHessian(spec) ? [$"{prefix}hessian_top_eigenvalue"] : []);

    public static readonly string[] GridCsvColumns =
    [
        "bn_mode", "batch_size", "base_lr", "seeds", "completed", "diverged", "failed", "cancelled", "status",
        "converged_fraction", "median_test_accuracy", "min_test_accuracy", "max_test_accuracy", "median_test_loss",
    ];

    public static readonly string[] CsvColumns =
    [
        "trial_id", "bn_mode", "batch_size", "base_lr", "lr", "seed", "status", "final_test_accuracy",
        "final_test_loss", "epochs_run", "diverged_at_epoch", "divergence_loss", "seconds", "device", "failure_reason",
    ];

    public static void Write(string studyDirectory, StudyResults study)
    {
        Directory.CreateDirectory(studyDirectory);
        WriteAtomically(Path.Combine(studyDirectory, SpecFileName), SweepSpecLoader.ToJson(study.Spec));
        WriteAtomically(Path.Combine(studyDirectory, JsonFileName), ToJson(study));
        WriteAtomically(Path.Combine(studyDirectory, CsvFileName), ToCsv(study));
        var grids = ResultGrid.Build(study.Spec, study.Results);
        WriteAtomically(Path.Combine(studyDirectory, GridsJsonFileName), GridsToJson(grids));
        WriteAtomically(Path.Combine(studyDirectory, GridsCsvFileName), GridsToCsv(grids, study.Spec));
        var interpolations = Interpolations(study.Results);
        if (interpolations.Count > 0)
        {
            WriteAtomically(Path.Combine(studyDirectory, InterpolationsJsonFileName), JsonSerializer.Serialize(interpolations, SweepSpecLoader.JsonOptions));
            WriteAtomically(Path.Combine(studyDirectory, InterpolationsCsvFileName), InterpolationsToCsv(interpolations));
        }
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

    public static string InterpolationsToCsv(IReadOnlyList<InterpolationResult> interpolations)
    {
        var csv = new StringBuilder();
        csv.AppendLine("name,small_trial,large_trial,alpha,train_loss,train_accuracy,test_loss,test_accuracy");
        foreach (var i in interpolations)
        foreach (var p in i.Points)
            csv.AppendLine(string.Join(',', new[]
            {
                i.Name, i.SmallTrialId, i.LargeTrialId, Number(p.Alpha), Number(p.TrainLoss), Number(p.TrainAccuracy), Number(p.TestLoss), Number(p.TestAccuracy),
            }.Select(Escape)));
        return csv.ToString();
    }

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

    public static string GridsToCsv(IReadOnlyList<ResultGrid> grids, SweepSpec spec)
    {
        var csv = new StringBuilder();
        var keys = SharpnessKeys(spec);
        csv.AppendLine(string.Join(',', GridCsvColumns.Concat(AnalysisColumns(spec, "median_"))));
        foreach (var g in grids)
        for (int b = 0; b < g.BatchSizes.Count; b++)
        for (int l = 0; l < g.BaseLearningRates.Count; l++)
        {
            var c = g[b, l];
            string[] row =
            [
                g.BnMode, Number(c.BatchSize), Number(c.BaseLearningRate), Number(c.Seeds), Number(c.Completed), Number(c.Diverged),
                Number(c.Failed), Number(c.Cancelled), c.Status, Number(c.ConvergedFraction), Number(c.MedianAccuracy),
                Number(c.MinAccuracy), Number(c.MaxAccuracy), Number(c.MedianTestLoss),
                .. keys.Select(k => Number(c.MedianSharpness?.GetValueOrDefault(k))),
                .. MeasuresHessian(spec) ? [Number(c.MedianHessianEigenvalue)] : Array.Empty<string>(),
            ];
            csv.AppendLine(string.Join(',', row.Select(Escape)));
        }
        return csv.ToString();
    }

    public static string ToJson(StudyResults study)
    {
        var document = new
        {
            sweep = study.Spec.Name,
            spec = study.Spec,
            trials = study.Trials.Select(t => new
            {
                trialId = t.TrialId,
                bnMode = t.BnMode,
                batchSize = t.BatchSize,
                baseLearningRate = t.BaseLearningRate,
                learningRate = t.LearningRate,
                seed = t.Seed,
                result = study.Results.GetValueOrDefault(t.TrialId),
            }),
        };
        return JsonSerializer.Serialize(document, SweepSpecLoader.JsonOptions);
    }

    public static string ToCsv(StudyResults study)
    {
        var csv = new StringBuilder();
        var keys = SharpnessKeys(study.Spec);
        csv.AppendLine(string.Join(',', CsvColumns.Concat(AnalysisColumns(study.Spec, ""))));
        foreach (var t in study.Trials)
        {
            var r = study.Results.GetValueOrDefault(t.TrialId);
            string[] row =
            [
                t.TrialId, t.BnMode, Number(t.BatchSize), Number(t.BaseLearningRate), Number(t.LearningRate), Number(t.Seed),
                (r?.Status ?? TrialStatus.Pending).ToString().ToLowerInvariant(), Number(r?.FinalTestAccuracy),
                Number(r?.FinalTestLoss), Number(r?.Epochs.Count), Number(r?.DivergedAtEpoch), Number(r?.DivergenceLoss),
                Number(r?.Seconds), r?.Device ?? "", r?.FailureReason ?? "",
                .. keys.Select(k => Number(r?.Analysis?.Sharpness.FirstOrDefault(m => m.Key == k)?.Sharpness)),
                .. MeasuresHessian(study.Spec) ? [Number(r?.Analysis?.Hessian?.Eigenvalue)] : Array.Empty<string>(),
            ];
            csv.AppendLine(string.Join(',', row.Select(Escape)));
        }
        return csv.ToString();
    }

    /// <summary>Write to a temporary file, then rename: a reader never sees half a file.</summary>
    public static void WriteAtomically(string path, string contents)
    {
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllText(temporary, contents, new UTF8Encoding(false));
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private static string Number(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? "";
    private static string Number(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    private static string Escape(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{field.Replace("\"", "\"\"")}\"" : field;
}
