using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansSweep.Core.Results;

/// <summary>
/// Written as its name in JSON ("completed"), so results.json and `train --json` say what they mean; read from a name
/// or from the number that earlier versions wrote, so older studies still read.
/// </summary>
[JsonConverter(typeof(CamelCaseEnumConverter<TrialStatus>))]
public enum TrialStatus
{
    Pending,
    Running,
    /// <summary>Trained the whole epoch budget.</summary>
    Completed,
    /// <summary>Loss became NaN/inf or exploded: a scientific result (an unstable cell), not a failure.</summary>
    Diverged,
    /// <summary>Could not be trained (bad data, a bug); the reason is in <see cref="TrialResult.FailureReason"/>.</summary>
    Failed,
    Cancelled,
}

public static class TrialStatusExtensions
{
    public static bool IsFinal(this TrialStatus status) =>
        status is TrialStatus.Completed or TrialStatus.Diverged or TrialStatus.Failed or TrialStatus.Cancelled;
}

/// <summary>Why a trial failed, which decides whether it is tried again.</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<FailureKind>))]
public enum FailureKind
{
    /// <summary>Bad spec or data: the same attempt would fail the same way. Never retried.</summary>
    Deterministic,
    /// <summary>Silo lost, lease expired, storage or memory trouble: retried from the last checkpoint, boundedly.</summary>
    Transient,
}

/// <summary>
/// Metrics after one epoch: the mean training loss and the running training accuracy over the epoch's steps (each
/// step's batch before its update, as a training loop sees it; null in results of versions before it was recorded),
/// the test loss and accuracy at the epoch's end, and its duration.
/// </summary>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TestLoss, double TestAccuracy, double Seconds, double? TrainAccuracy = null);

/// <summary>Mean cross-entropy and accuracy of a network on <paramref name="Images"/> images.</summary>
public sealed record FitMeasurement(int Images, double Loss, double Accuracy);

public sealed record TrialResult
{
    public required string TrialId { get; init; }
    public required TrialStatus Status { get; init; }
    public IReadOnlyList<EpochMetrics> Epochs { get; init; } = [];
    /// <summary>Median test accuracy of the final (up to) five epochs (Masters &amp; Luschi); null unless completed.</summary>
    public double? FinalTestAccuracy { get; init; }
    public double? FinalTestLoss { get; init; }
    /// <summary>
    /// Training loss and accuracy at the final weights, BN in eval mode, on a fixed draw of training images as many as
    /// the test set's (null: not completed, or a result of a version before it was recorded). Beside the last epoch's
    /// test metrics, which are at the same weights, it splits a finding into optimisation (how well the network fits
    /// the training set) and generalisation (the gap between the two).
    /// </summary>
    public FitMeasurement? FinalTrainFit { get; init; }
    /// <summary>Epoch (1-based) and loss at which divergence was detected.</summary>
    public int? DivergedAtEpoch { get; init; }
    public double? DivergenceLoss { get; init; }
    public string? FailureReason { get; init; }
    /// <summary>Set for failures: whether the sweep may try again.</summary>
    public FailureKind? FailureKind { get; init; }
    /// <summary>Attempts it took (1 unless transient failures were retried).</summary>
    public int Attempts { get; init; } = 1;
    public string? Device { get; init; }
    /// <summary>Intra-op threads it trained with (null in results of versions before it was recorded).</summary>
    public int? Threads { get; init; }
    /// <summary>The silo (host:port) that trained it.</summary>
    public string? Silo { get; init; }
    /// <summary>Wall time of this run (a resumed trial counts from its resumption).</summary>
    public double Seconds { get; init; }
    /// <summary>Epochs restored from a checkpoint instead of being trained by this run (null: started afresh).</summary>
    public int? ResumedFromEpoch { get; init; }
    /// <summary>SGD steps restored from a checkpoint (beyond ResumedFromEpoch's when the trial had been stopped part-way through an epoch).</summary>
    public long? ResumedFromStep { get; init; }
    /// <summary>What the user should know but did not stop the trial: corrupt checkpoints passed over, device fallbacks.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>Sharpness and Hessian eigenvalue, when the spec asked for them and the trial completed.</summary>
    public TrialAnalysis? Analysis { get; init; }
    /// <summary>Test accuracy at the final weights (the last epoch's), where <see cref="FinalTestAccuracy"/> is a median of five epochs.</summary>
    [JsonIgnore]
    public double? FinalWeightsTestAccuracy => Status == TrialStatus.Completed ? Epochs.LastOrDefault()?.TestAccuracy ?? FinalTestAccuracy : null;

    /// <summary>Training accuracy at the final weights: this result's own, or its analysis's where it predates it.</summary>
    [JsonIgnore]
    public double? FinalWeightsTrainAccuracy => Status == TrialStatus.Completed ? FinalTrainFit?.Accuracy ?? Analysis?.TrainAccuracy : null;

    /// <summary>Set for the sweep's interpolation jobs instead of epochs.</summary>
    public InterpolationResult? Interpolation { get; init; }
}

/// <summary>An enum as its camel-case name in JSON; integers (what earlier versions wrote) are still read.</summary>
public sealed class CamelCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase, allowIntegerValues: true)
    where TEnum : struct, Enum;

public static class TrialResultRules
{
    /// <summary>
    /// A "completed" trial whose final test accuracy or loss is NaN or infinite did not converge: BN over one example,
    /// say, trains to NaN statistics and a 10% argmax of NaN logits. It is a divergence (a result, never "converged"),
    /// dated to the first epoch whose test metrics were not finite.
    /// </summary>
    public static TrialResult WithNonFiniteMetricsAsDivergence(this TrialResult result)
    {
        if (result.Status != TrialStatus.Completed) return result;
        bool finite = result.FinalTestAccuracy is not { } accuracy || double.IsFinite(accuracy);
        finite &= result.FinalTestLoss is not { } loss || double.IsFinite(loss);
        finite &= result.Epochs.All(e => double.IsFinite(e.TestLoss) && double.IsFinite(e.TestAccuracy) && double.IsFinite(e.TrainLoss));
        if (finite) return result;
        var first = result.Epochs.FirstOrDefault(e => !(double.IsFinite(e.TestLoss) && double.IsFinite(e.TestAccuracy) && double.IsFinite(e.TrainLoss)));
        return result with
        {
            Status = TrialStatus.Diverged,
            DivergedAtEpoch = first?.Epoch ?? result.Epochs.Count,
            DivergenceLoss = first is { } e ? (double.IsFinite(e.TrainLoss) ? e.TestLoss : e.TrainLoss) : result.FinalTestLoss,
            FinalTestAccuracy = null,
            FinalTestLoss = null,
        };
    }
}
