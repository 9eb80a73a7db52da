using MessagePack;

namespace OrleansSweep.Training.Checkpoints;

/// <summary>
/// Everything needed to continue a trial bit-identically: after its last completed epoch, or (when a trial is stopped:
/// a silo shutting down, a pause) part-way through the next one.
/// </summary>
[MessagePackObject]
public sealed class TrainingCheckpoint
{
    [Key(0)] public required string TrialId { get; init; }
    /// <summary>Of the trial spec: a checkpoint never resumes a trial whose settings differ.</summary>
    [Key(1)] public required string TrialFingerprint { get; init; }
    [Key(2)] public required int EpochsDone { get; init; }
    [Key(3)] public required long Step { get; init; }
    [Key(4)] public double? InitialLoss { get; init; }
    /// <summary>TorchSharp's module format (parameters and buffers, BN running statistics included).</summary>
    [Key(5)] public required byte[] Model { get; init; }
    [Key(6)] public required byte[] Optimizer { get; init; }
    /// <summary>libtorch generator states: the epoch permutations and the augmentation draws.</summary>
    [Key(7)] public required byte[] PermutationRng { get; init; }
    [Key(8)] public required byte[] AugmentationRng { get; init; }
    [Key(9)] public required List<EpochRecord> Epochs { get; init; }
    /// <summary>
    /// Steps already taken in epoch EpochsDone + 1 (0: the checkpoint is at an epoch boundary). When non-zero,
    /// PermutationRng is the state before that epoch's permutation was drawn, so a resume draws the same one and skips
    /// these steps.
    /// </summary>
    [Key(10)] public int PartialEpochSteps { get; init; }
    /// <summary>Sum of the training losses of those steps (the epoch's mean train loss stays bit-identical).</summary>
    [Key(11)] public double PartialEpochLossSum { get; init; }
    /// <summary>Correctly classified training examples of those steps (the epoch's running training accuracy).</summary>
    [Key(12)] public long PartialEpochCorrect { get; init; }
    /// <summary>Intra-op threads the trial trained with: a resume keeps them when the spec does not fix them (numerics depend on them).</summary>
    [Key(13)] public int? Threads { get; init; }
}

[MessagePackObject]
public sealed class EpochRecord
{
    [Key(0)] public int Epoch { get; init; }
    [Key(1)] public double TrainLoss { get; init; }
    [Key(2)] public double TestLoss { get; init; }
    [Key(3)] public double TestAccuracy { get; init; }
    [Key(4)] public double Seconds { get; init; }
    [Key(5)] public double? TrainAccuracy { get; init; }
}

/// <summary>The file: a format version, the MessagePack payload, and its SHA-256, checked on every load.</summary>
[MessagePackObject]
public sealed class CheckpointEnvelope
{
    public const int CurrentFormat = 1;
    [Key(0)] public int Format { get; init; } = CurrentFormat;
    [Key(1)] public required byte[] Payload { get; init; }
    [Key(2)] public required byte[] Sha256 { get; init; }
}
