using System.Text.Json.Serialization;

namespace OrleansSweep.Core.Specs;

/// <summary>A sweep: one grid of trials over batch size x base learning rate x BN mode x seed, sharing everything else.</summary>
public sealed record SweepSpec
{
    /// <summary>Names the sweep and its study directory: letters, digits, '.', '_' and '-'.</summary>
    public required string Name { get; init; }
    public required DatasetSpec Dataset { get; init; }
    public required ModelSpec Model { get; init; }
    public required TrainingSpec Training { get; init; }
    public required GridSpec Grid { get; init; }
    public ExecutionSpec Execution { get; init; } = new();
    /// <summary>Loss-landscape measurements after training (sharpness, Hessian eigenvalue, interpolations); null: none.</summary>
    public AnalysisSpec? Analysis { get; init; }
    /// <summary>Thresholds and confidence `verify` judges the papers' findings by; null: <see cref="FindingsSpec"/>'s defaults.</summary>
    public FindingsSpec? Findings { get; init; }
}

public sealed record DatasetSpec
{
    /// <summary>"fashion-mnist" (Debian's package by default), "mnist" or "cifar10" (binary version; path required).</summary>
    public required string Name { get; init; }
    /// <summary>Directory holding the dataset files; null means the dataset's system location.</summary>
    public string? Path { get; init; }
    /// <summary>Class-stratified subset of the training set (null: all of it).</summary>
    public int? TrainSubset { get; init; }
    /// <summary>Class-stratified subset of the test set (null: all of it).</summary>
    public int? TestSubset { get; init; }
    /// <summary>Seed of the subset draw: the same for every trial, so every cell sees the same data.</summary>
    public int SubsetSeed { get; init; }
    /// <summary>Pad 4 + random 32x32 (or 28x28) crop + horizontal flip on every training batch, seeded per trial.</summary>
    public bool Augment { get; init; }
}

public sealed record ModelSpec
{
    /// <summary>"resnet8", "resnet20", "resnet32" (the CIFAR ResNets of He et al., 6n+2 layers), "alexnet-small" (Masters &amp; Luschi) or "keskar-f1" (Keskar et al.'s 5 x 512 fully connected net).</summary>
    public required string Architecture { get; init; }
}

public sealed record TrainingSpec
{
    /// <summary>The same epoch budget for every batch size (Masters &amp; Luschi).</summary>
    public required int Epochs { get; init; }
    /// <summary>
    /// "linear" (null means the same): the grid's learning rates are base LRs eta~ and a batch of m trains at
    /// eta = m * eta~ (Masters &amp; Luschi). "none": every batch size trains at the grid's value itself, eta = eta~
    /// (Keskar et al. compare small and large batches at the same optimiser settings). Null when unset, so specs and
    /// trials written before this field existed keep their fingerprints (and their studies and checkpoints).
    /// </summary>
    public string? LearningRateScaling { get; init; }

    /// <summary>The learning-rate axis's symbol and name for tables and figures ("eta~", or "eta" without scaling).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public (string Symbol, string Name) LearningRateAxis => LearningRateScaling == "none"
        ? ("eta", "learning rate eta (the same for every m)")
        : ("eta~", "base learning rate eta~ = eta / m");
    public double WeightDecay { get; init; } = 1e-4;
    /// <summary>
    /// "sgd" (null means the same): SGD with <see cref="Momentum"/> (Masters &amp; Luschi). "adam": Adam with
    /// Kingma &amp; Ba's defaults beta1 = 0.9, beta2 = 0.999, eps = 1e-8, the optimiser Keskar et al. trained both
    /// regimes with; weight decay is then an L2 term added to the gradient (as torch.optim.Adam). Null when unset, so
    /// specs written before this field existed keep their fingerprints.
    /// </summary>
    public string? Optimizer { get; init; }
    /// <summary>SGD's momentum (0: plain SGD, the papers' default); Adam has its own (beta1).</summary>
    public double Momentum { get; init; }
    /// <summary>"step" (LR / 10 at 50% and 75% of the iterations, the papers' default), "constant" or "cosine".</summary>
    public string Schedule { get; init; } = "step";
    /// <summary>Goyal et al.'s warm-up: start at eta/32 and rise linearly to eta over the first 5% of the iterations.</summary>
    public bool Warmup { get; init; }
    /// <summary>Write a checkpoint every this many epochs (0: never); a resumed trial continues from the latest good one.</summary>
    public int CheckpointEvery { get; init; } = 1;
    /// <summary>A trial diverges when its loss is NaN/inf or exceeds this multiple of its initial loss.</summary>
    public double DivergenceFactor { get; init; } = 10;
    /// <summary>Batch size of evaluation passes; does not affect results.</summary>
    public int EvaluationBatchSize { get; init; } = 1000;
    /// <summary>
    /// Intra-op threads each trial computes with. Part of the trial's identity: on CPU the reduction order, and so the
    /// numbers, depend on it, so a grid's results must not depend on how its silos are packed. Every silo runs the trial
    /// with exactly these threads; packing decides only how many trials share a device. Null (specs before this field):
    /// the silo's setting, and a trial resumed from a checkpoint keeps the threads it started with.
    /// </summary>
    public int? Threads { get; init; }
}

public sealed record GridSpec
{
    public required IReadOnlyList<int> BatchSizes { get; init; }
    /// <summary>Base learning rates eta~; the trainer uses eta = m * eta~. JSON accepts numbers or "2^-8".</summary>
    [JsonConverter(typeof(LearningRateListConverter))]
    public required IReadOnlyList<double> BaseLearningRates { get; init; }
    /// <summary>"none", "batch" or "ghost:b" (BN statistics over sub-batches of b examples).</summary>
    public IReadOnlyList<string> BnModes { get; init; } = ["none"];
    public IReadOnlyList<int> Seeds { get; init; } = [0];
}

public sealed record ExecutionSpec
{
    /// <summary>Upper bound on trials running at once across the cluster (null: as many as there are device slots).</summary>
    public int? MaxConcurrentTrials { get; init; }
}
