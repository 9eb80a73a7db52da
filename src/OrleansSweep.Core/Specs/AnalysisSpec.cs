using System.Text.Json.Serialization;

namespace OrleansSweep.Core.Specs;

/// <summary>
/// Loss-landscape measurements after training (Keskar et al.): per trial, eps-sharpness and the top Hessian
/// eigenvalue of f, the mean training cross-entropy on a fixed evaluation subset (BN in eval mode); per sweep, the
/// line interpolation between two named cells. Omitted parts are not measured.
/// </summary>
public sealed record AnalysisSpec
{
    /// <summary>Training images f is measured on: the same seeded draw for every trial of the sweep.</summary>
    public int EvaluationSubset { get; init; } = 1000;
    public int SubsetSeed { get; init; }
    public SharpnessSpec? Sharpness { get; init; }
    public HessianSpec? Hessian { get; init; }
    /// <summary>Interpolations between pairs of cells, run once every trial of the grid has ended.</summary>
    public IReadOnlyList<InterpolationSpec> Interpolations { get; init; } = [];
}

/// <summary>Keskar et al.'s phi(x, eps, A): the largest rise of f within the box C_eps, found by L-BFGS-B.</summary>
public sealed record SharpnessSpec
{
    public IReadOnlyList<double> Epsilons { get; init; } = [1e-3, 5e-4];
    /// <summary>
    /// Any of "full" (A = I), "random" (A an n x p matrix of standard normal entries, p = subspaceDimension) and
    /// "filter" (A = I in coordinates scaled per output filter, |z_i| &lt;= eps with no "+1": invariant to rescaling the
    /// weights in front of a BN, which moves the other two; docs/design.md §3.4). The default stays the paper's pair so
    /// specs that omit it keep their meaning and fingerprint.
    /// </summary>
    public IReadOnlyList<string> Spaces { get; init; } = ["full", "random"];
    public int SubspaceDimension { get; init; } = 100;
    /// <summary>Seed of the random matrix A (the same for every trial, so their subspace measures compare).</summary>
    public int SubspaceSeed { get; init; }
    /// <summary>L-BFGS-B iterations of the maximisation (Keskar et al.: 10).</summary>
    public int Iterations { get; init; } = 10;
}

/// <summary>Power iteration on Hessian-vector products.</summary>
public sealed record HessianSpec
{
    public int MaxIterations { get; init; } = 50;
    /// <summary>Stop when the estimate changes by less than this fraction between iterations.</summary>
    public double Tolerance { get; init; } = 1e-3;
}

/// <summary>The values of <see cref="InterpolationSpec.BnStatistics"/>.</summary>
public static class InterpolationBnStatistics
{
    public const string Interpolate = "interpolate";
    public const string Batch = "batch";
    public static readonly string[] Known = [Interpolate, Batch];
}

/// <summary>
/// f(alpha x_large + (1 - alpha) x_small) for alpha in [-1, 2], train and test, BN statistics interpolated too (or batch
/// statistics, see <see cref="BnStatistics"/>).
/// </summary>
public sealed record InterpolationSpec
{
    /// <summary>Names the result (letters, digits, '.', '_', '-').</summary>
    public required string Name { get; init; }
    /// <summary>alpha = 0.</summary>
    public required CellSelector Small { get; init; }
    /// <summary>alpha = 1.</summary>
    public required CellSelector Large { get; init; }
    public int Points { get; init; } = 25;
    /// <summary>
    /// How BN normalises along the line: "interpolate" (omitted: docs/design.md §3.5, running statistics interpolated like the
    /// weights) or "batch" (each evaluation batch with its own statistics, as the authors' Keras BN did; no running
    /// statistics to extrapolate, whose variance turns negative beyond an end).
    /// </summary>
    public string? BnStatistics { get; init; }
}

/// <summary>One trial of the grid: a batch size, a base LR (omitted: the batch size's best by median accuracy), a BN mode and a seed.</summary>
public sealed record CellSelector
{
    public required int BatchSize { get; init; }
    [JsonConverter(typeof(OptionalLearningRateConverter))]
    public double? BaseLearningRate { get; init; }
    /// <summary>Defaults to the grid's first BN mode.</summary>
    public string? BnMode { get; init; }
    /// <summary>Defaults to the grid's first seed.</summary>
    public int? Seed { get; init; }
}
