using System.Globalization;

namespace OrleansSweep.Core.Results;

/// <summary>
/// One eps-sharpness measurement: phi = (max_{y in C_eps} f(x + A y) - f(x)) / (1 + f(x)) * 100, the max being the
/// largest f seen during the L-BFGS-B maximisation.
/// </summary>
public sealed record SharpnessMeasurement(string Space, double Epsilon, double Sharpness, double BaseLoss, double MaxLoss,
    int Iterations, int Evaluations, double Seconds)
{
    /// <summary>
    /// Where the L-BFGS-B search started: null from y = 0 (the centre; every measurement before warm starts), otherwise
    /// the epsilon of the same space whose maximiser it started from (the next smaller one). An init property, not a
    /// constructor parameter, so results written before it existed still read (as null: a cold start).
    /// </summary>
    public double? StartEpsilon { get; init; }

    /// <summary>
    /// f at the warm start, recomputed by the search's first evaluation (null for a start at y = 0, where it is
    /// <see cref="BaseLoss"/>). It equals the <see cref="MaxLoss"/> of <see cref="StartEpsilon"/>'s measurement, bit for
    /// bit on a CPU: the evidence that the search really began at the previous maximum.
    /// </summary>
    public double? StartLoss { get; init; }

    /// <summary>"full@0.001", "random@0.0005": the column name in grids and reports.</summary>
    public string Key => KeyFor(Space, Epsilon);

    public static string KeyFor(string space, double epsilon) => $"{space}@{epsilon.ToString("R", CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Pairs of measurements that contradict each other: the same space, a larger epsilon and a smaller sharpness. A
    /// max over a box cannot shrink when the box grows (the boxes of one space share their centre and nest), so such a
    /// pair means the search at the larger epsilon fell short, as cold-started (<see cref="StartEpsilon"/> null)
    /// 10-iteration searches could. Warm-started measurements never form one. Ordered by space, then the smaller
    /// epsilon, then the larger; measurements whose sharpness is not a number are never flagged.
    /// </summary>
    public static IReadOnlyList<NonMonotoneSharpness> NonMonotonePairs(IEnumerable<SharpnessMeasurement> measurements)
    {
        var pairs = new List<NonMonotoneSharpness>();
        foreach (var space in measurements.GroupBy(m => m.Space, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var ascending = space.OrderBy(m => m.Epsilon).ToList();
            for (int i = 0; i < ascending.Count; i++)
            for (int j = i + 1; j < ascending.Count; j++)
                if (ascending[j].Epsilon > ascending[i].Epsilon && ascending[j].Sharpness < ascending[i].Sharpness)
                    pairs.Add(new NonMonotoneSharpness(ascending[i], ascending[j]));
        }
        return pairs;
    }
}

/// <summary>Two measurements of one space where the larger epsilon reports the smaller sharpness (see <see cref="SharpnessMeasurement.NonMonotonePairs"/>).</summary>
public sealed record NonMonotoneSharpness(SharpnessMeasurement SmallerEpsilon, SharpnessMeasurement LargerEpsilon)
{
    public override string ToString() =>
        FormattableString.Invariant($"{SmallerEpsilon.Space}: phi = {SmallerEpsilon.Sharpness:G4} at eps {SmallerEpsilon.Epsilon:R} but {LargerEpsilon.Sharpness:G4} at eps {LargerEpsilon.Epsilon:R}");
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
    /// <summary>
    /// One measurement per requested space and epsilon, in the spec's order: spaces as listed, and within a space the
    /// epsilons as listed (whatever order they were measured in: ascending, each from the previous one's maximiser).
    /// Readers should key them by <see cref="SharpnessMeasurement.Key"/> rather than rely on positions.
    /// </summary>
    public IReadOnlyList<SharpnessMeasurement> Sharpness { get; init; } = [];
    /// <summary>
    /// The L2 norm of each parameter tensor at the trained weights, by its name in the model (null in results analysed
    /// before it was recorded). Keskar's box scales with |x_i| + 1, so two sharpness values compare only beside the
    /// weight scales they were measured at (Dinh et al. 2017).
    /// </summary>
    public IReadOnlyDictionary<string, double>? WeightNorms { get; init; }
    public EigenvalueMeasurement? Hessian { get; init; }
    /// <summary>Why a measurement could not be made (the trial's training result stands regardless).</summary>
    public string? Error { get; init; }
    public double Seconds { get; init; }

    /// <summary>This analysis's contradictory sharpness pairs (<see cref="SharpnessMeasurement.NonMonotonePairs"/>).</summary>
    public IReadOnlyList<NonMonotoneSharpness> NonMonotoneSharpnessPairs() => SharpnessMeasurement.NonMonotonePairs(Sharpness);
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
