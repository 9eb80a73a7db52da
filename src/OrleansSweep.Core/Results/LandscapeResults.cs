using System.Globalization;

namespace OrleansSweep.Core.Results;

/// <summary>
/// One eps-sharpness measurement: phi = (max_{y in C_eps} f(x + A y) - f(x)) / (1 + f(x)) * 100, the max being the
/// largest f seen during the L-BFGS-B maximisation.
/// </summary>
public sealed record SharpnessMeasurement(string Space, double Epsilon, double Sharpness, double BaseLoss, double MaxLoss,
    int Iterations, int Evaluations, double Seconds)
{
    /// <summary>"full@0.001", "random@0.0005": the column name in grids and reports.</summary>
    public string Key => KeyFor(Space, Epsilon);

    public static string KeyFor(string space, double epsilon) => $"{space}@{epsilon.ToString("R", CultureInfo.InvariantCulture)}";
}

/// <summary>The top Hessian eigenvalue of f and how its power iteration ended.</summary>
public sealed record EigenvalueMeasurement(double Eigenvalue, int Iterations, bool Converged, double Seconds);

/// <summary>What the analysis stage measured on a trained trial.</summary>
public sealed record TrialAnalysis
{
    /// <summary>Training images f was measured on.</summary>
    public int EvaluationSubset { get; init; }
    /// <summary>f at the trained weights.</summary>
    public double TrainLoss { get; init; }
    /// <summary>Accuracy on the same training images at the trained weights (null in results analysed before it was recorded).</summary>
    public double? TrainAccuracy { get; init; }
    public IReadOnlyList<SharpnessMeasurement> Sharpness { get; init; } = [];
    public EigenvalueMeasurement? Hessian { get; init; }
    /// <summary>Why a measurement could not be made (the trial's training result stands regardless).</summary>
    public string? Error { get; init; }
    public double Seconds { get; init; }
}

/// <summary>Loss and accuracy at theta(alpha) = alpha * theta_large + (1 - alpha) * theta_small.</summary>
public sealed record InterpolationPoint(double Alpha, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy)
{
    /// <summary>
    /// Where the loss is not finite the logits are NaN and their argmax is no prediction (it picks class 0, which reads
    /// as chance accuracy): such a point has no accuracy. Lines written before this rule still hold those numbers.
    /// </summary>
    public static double AccuracyWhereDefined(double loss, double accuracy) => double.IsFinite(loss) ? accuracy : double.NaN;
}

/// <summary>The 1-d parametric plot between two trials' final weights.</summary>
public sealed record InterpolationResult(string Name, string SmallTrialId, string LargeTrialId, IReadOnlyList<InterpolationPoint> Points);
