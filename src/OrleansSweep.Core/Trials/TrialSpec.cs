using OrleansSweep.Core.Specs;

namespace OrleansSweep.Core.Trials;

/// <summary>One cell of a sweep's grid with everything needed to train it.</summary>
public sealed record TrialSpec
{
    public required string SweepName { get; init; }
    /// <summary>Deterministic id within the sweep: "bs16-lr2^-8-none-s0".</summary>
    public required string TrialId { get; init; }
    public required int BatchSize { get; init; }
    /// <summary>eta~, the axis the sweep is laid out on.</summary>
    public required double BaseLearningRate { get; init; }
    public required string BnMode { get; init; }
    public required int Seed { get; init; }
    public required DatasetSpec Dataset { get; init; }
    public required ModelSpec Model { get; init; }
    public required TrainingSpec Training { get; init; }
    /// <summary>Measurements after training (the sweep's interpolations are not among them); null: none.</summary>
    public AnalysisSpec? Analysis { get; init; }
    /// <summary>Set for the sweep's interpolation jobs: this "trial" trains nothing, it probes between two trials' final weights.</summary>
    public InterpolationJob? Interpolation { get; init; }

    /// <summary>eta = m * eta~ (Masters &amp; Luschi's linear scaling), or eta~ itself when the spec scales nothing.</summary>
    public double LearningRate => Training.LearningRateScaling == "none" ? BaseLearningRate : BatchSize * BaseLearningRate;

    public BnMode ParsedBnMode => Specs.BnMode.Parse(BnMode);
}

/// <summary>An interpolation between two trials of the same sweep (alpha = 0 at the small one, 1 at the large one).</summary>
/// <param name="BnStatistics">The spec's setting; null (the default, running statistics interpolated) keeps the
/// fingerprints of jobs planned before it existed.</param>
public sealed record InterpolationJob(string Name, string SmallTrialId, string LargeTrialId, int Points, string? BnStatistics = null)
{
    public bool UsesBatchStatistics => BnStatistics == InterpolationBnStatistics.Batch;
}
