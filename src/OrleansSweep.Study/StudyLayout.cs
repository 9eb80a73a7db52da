namespace OrleansSweep.Study;

/// <summary>
/// Every file and folder of a study directory, named once. A study is what `run` writes (and `report`, `export`,
/// `verify` read): the spec, the results per trial and per cell, the interpolations, the sweep's durable state, each
/// trial's checkpoints and final weights, and the report.
/// </summary>
public sealed class StudyLayout(string directory)
{
    public const string SpecFileName = "spec.json";
    public const string ResultsJsonFileName = "results.json";
    public const string ResultsCsvFileName = "results.csv";
    /// <summary>Every result, one JSON line each, in recording order, appended as they arrive (<see cref="StudyLedger"/>).</summary>
    public const string ResultsLedgerFileName = "results.jsonl";
    public const string GridsJsonFileName = "grids.json";
    public const string GridsCsvFileName = "grids.csv";
    public const string InterpolationsJsonFileName = "interpolations.json";
    public const string InterpolationsCsvFileName = "interpolations.csv";
    /// <summary>The embedded silo's grain storage (SQLite): the sweep's state, from which a killed run resumes.</summary>
    public const string StateFileName = "state.db";
    /// <summary>A study pulled from a cluster: which sweep, and the last result record it holds (the next pull asks after it).</summary>
    public const string PulledFileName = "pulled.json";
    /// <summary>Held (an OS lock) by the process running the study, so a second run cannot train the same trials.</summary>
    public const string LockFileName = ".lock";
    public const string TrialsDirectoryName = "trials";
    public const string CheckpointsDirectoryName = "checkpoints";
    /// <summary>A completed trial's weights as a PyTorch state dict.</summary>
    public const string FinalWeightsFileName = "final.pt";
    public const string ReportDirectoryName = "report";
    /// <summary>TensorBoard's log directory: one run (sub-directory) per trial, `tensorboard --logdir` opens them all.</summary>
    public const string TensorBoardDirectoryName = "tensorboard";
    public const string ReportHtmlFileName = "report.html";

    public string Directory { get; } = directory;

    public string Spec => Path.Combine(Directory, SpecFileName);
    public string ResultsJson => Path.Combine(Directory, ResultsJsonFileName);
    public string ResultsCsv => Path.Combine(Directory, ResultsCsvFileName);
    public string ResultsLedger => Path.Combine(Directory, ResultsLedgerFileName);
    public string GridsJson => Path.Combine(Directory, GridsJsonFileName);
    public string GridsCsv => Path.Combine(Directory, GridsCsvFileName);
    public string InterpolationsJson => Path.Combine(Directory, InterpolationsJsonFileName);
    public string InterpolationsCsv => Path.Combine(Directory, InterpolationsCsvFileName);
    public string State => Path.Combine(Directory, StateFileName);
    public string Pulled => Path.Combine(Directory, PulledFileName);
    public string Lock => Path.Combine(Directory, LockFileName);
    public string Report => Path.Combine(Directory, ReportDirectoryName);
    public string ReportHtml => Path.Combine(Report, ReportHtmlFileName);
    public string TensorBoard => Path.Combine(Directory, TensorBoardDirectoryName);

    /// <summary>Where a trial keeps its files under an artifact root (a study directory, or a cluster's shared root).</summary>
    public static string TrialDirectory(string root, string trialId) => Path.Combine(root, TrialsDirectoryName, trialId);

    /// <summary>Where a trial writes its TensorBoard event files under an artifact root: the run named after the trial.</summary>
    public static string TensorBoardRun(string root, string trialId) => Path.Combine(root, TensorBoardDirectoryName, trialId);

    public static string Checkpoints(string trialDirectory) => Path.Combine(trialDirectory, CheckpointsDirectoryName);

    public static string FinalWeights(string trialDirectory) => Path.Combine(trialDirectory, FinalWeightsFileName);
}
