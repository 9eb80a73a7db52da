using System.Globalization;
using System.Text;
using System.Text.Json;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Results;

/// <summary>What a finished (or partly finished) sweep writes into its study directory.</summary>
public sealed record StudyResults(SweepSpec Spec, IReadOnlyList<TrialSpec> Trials, IReadOnlyDictionary<string, TrialResult> Results);

/// <summary>results.json (spec + every trial's result) and results.csv (one row per trial), written atomically.</summary>
public static class StudyFiles
{
    public const string JsonFileName = "results.json";
    public const string CsvFileName = "results.csv";
    public const string SpecFileName = "spec.json";

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
        csv.AppendLine(string.Join(',', CsvColumns));
        foreach (var t in study.Trials)
        {
            var r = study.Results.GetValueOrDefault(t.TrialId);
            string[] row =
            [
                t.TrialId, t.BnMode, Number(t.BatchSize), Number(t.BaseLearningRate), Number(t.LearningRate), Number(t.Seed),
                (r?.Status ?? TrialStatus.Pending).ToString().ToLowerInvariant(), Number(r?.FinalTestAccuracy),
                Number(r?.FinalTestLoss), Number(r?.Epochs.Count), Number(r?.DivergedAtEpoch), Number(r?.DivergenceLoss),
                Number(r?.Seconds), r?.Device ?? "", r?.FailureReason ?? "",
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
