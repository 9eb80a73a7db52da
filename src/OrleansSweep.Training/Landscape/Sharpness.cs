using TorchSharp;
using OrleansSweep.Training.Trainer.ScalarSafe;
using System.Diagnostics;
using MathNet.Numerics.LinearAlgebra;
using OrleansSweep.Core.Optimization;
using OrleansSweep.Core.Results;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Landscape;

/// <summary>
/// Keskar et al.'s eps-sharpness: phi(x, eps, A) = (max_{y in C_eps} f(x + A y) - f(x)) / (1 + f(x)) * 100, with
/// C_eps = { y : |y_i| &lt;= eps (|(A+ x)_i| + 1) }, maximised by L-BFGS-B. The reported max is the largest f seen at any
/// point the optimiser evaluated (all lie in the box). f is the mean cross-entropy of the <see cref="FlatParameters"/>'
/// image set, in eval mode; the trained weights are restored afterwards. Beside Keskar's two spaces, "filter" measures
/// the same quantity in coordinates scaled per output filter, with no "+1", so that rescaling the weights in front of
/// a BN (which leaves the network's function alone) leaves the measure alone too (Dinh et al. 2017; docs/design.md §3.4).
/// </summary>
public static class Sharpness
{
    public const string FullSpace = "full";
    public const string RandomSubspace = "random";
    public const string FilterSpace = "filter";

    /// <summary>
    /// The smallest per-filter scale of the "filter" space. A row or 1-d tensor that is exactly zero has no scale of its
    /// own, and without Keskar's "+1" nothing else would give it one: it moves by at most eps * 1e-12, i.e. it stays put
    /// (an untrained BN's beta = 0 is such a tensor). The floor only keeps the scaling finite and the gradient defined.
    /// </summary>
    public const double FilterScaleFloor = 1e-12;
    private static readonly TorchSharp.Scalar FilterScaleFloorScalar = FilterScaleFloor.ToScalar();

    /// <summary>One epsilon, searched from y = 0 (see <see cref="MeasureAscending"/> for several, warm-started).</summary>
    /// <param name="space">"full" (A = I, y has one entry per parameter), "random" (A is n x p with i.i.d. standard
    /// normal entries drawn from <paramref name="subspaceSeed"/>; A+ x by least squares through the normal equations,
    /// well conditioned because n is much larger than p) or "filter" (y = D z with D the per-filter scales of
    /// <see cref="FilterScales"/> and the box |z_i| &lt;= eps).</param>
    public static SharpnessMeasurement Measure(FlatParameters parameters, string space, double epsilon, int iterations = 10,
        int subspaceDimension = 100, int subspaceSeed = 0, CancellationToken cancellation = default) =>
        MeasureAscending(parameters, space, [epsilon], iterations, subspaceDimension, subspaceSeed, cancellation)[0];

    /// <summary>
    /// Several epsilons of one space, in ascending order (the order of the returned list): the smallest searched from
    /// y = 0, each larger one from the maximiser of the one before (the point with the largest f seen there). The boxes
    /// of one space share their centre and grow with eps, so that point lies in the next box and the next search
    /// starts at the previous maximum: phi cannot decrease with eps, as a max over a growing box cannot. Searched
    /// cold, 10 iterations at the larger eps could fall short of the smaller eps's maximum (the audit's seed 2).
    /// </summary>
    public static IReadOnlyList<SharpnessMeasurement> MeasureAscending(FlatParameters parameters, string space, IEnumerable<double> epsilons,
        int iterations = 10, int subspaceDimension = 100, int subspaceSeed = 0, CancellationToken cancellation = default)
    {
        var ascending = epsilons.Order().ToList();
        if (ascending.Count == 0) throw new ArgumentException("expected at least one epsilon.", nameof(epsilons));
        foreach (double epsilon in ascending)
            if (!(double.IsFinite(epsilon) && epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilons), epsilon, "expected a finite epsilon > 0.");
        if (space == RandomSubspace && subspaceDimension < 1)
            throw new ArgumentOutOfRangeException(nameof(subspaceDimension), subspaceDimension, "expected p >= 1.");
        if (space is not (FullSpace or RandomSubspace or FilterSpace))
            throw new ArgumentException($"unknown sharpness space '{space}' (expected {FullSpace}, {RandomSubspace} or {FilterSpace}).", nameof(space));

        var measurements = new List<SharpnessMeasurement>();
        using var x = parameters.Original();
        try
        {
            var clock = Stopwatch.StartNew();
            var (baseLoss, baseGradient) = parameters.LossAndGradient();
            baseGradient.Dispose();
            using var coordinates = Coordinates.For(parameters, x, space, subspaceDimension, subspaceSeed);
            double[]? maximiser = null; // in this space's coordinates; null before the first search
            double previousMax = baseLoss;
            double? startEpsilon = null;
            foreach (double epsilon in ascending)
            {
                var start = maximiser ?? new double[coordinates.Radius.Length];
                // The start lies in this box (it lay in the previous, nested one), and L-BFGS-B evaluates it first: that
                // evaluation reproduces the previous max (bit for bit on CPU). Seeding the max with it as well keeps phi
                // monotone where reductions are not deterministic (a GPU), and it is the loss of a point in this box.
                double maxLoss = previousMax;
                var best = (double[])start.Clone();
                int evaluations = 0;
                double? startLoss = null;
                var (lower, upper) = Box(coordinates.Radius, epsilon);
                var result = LbfgsB.Minimize((y, gradient) =>
                {
                    cancellation.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    parameters.Load(coordinates.Weights(y));
                    var (loss, g) = parameters.LossAndGradient();
                    coordinates.ToY(g).neg().cpu().data<double>().CopyTo(gradient);
                    if (evaluations++ == 0 && startEpsilon is not null) startLoss = loss;
                    if (double.IsFinite(loss) && loss > maxLoss)
                    {
                        maxLoss = loss;
                        Array.Copy(y, best, best.Length);
                    }
                    return -loss; // L-BFGS-B minimises: the max of f is the min of -f
                }, start, lower, upper, KeskarOptions(iterations));
                double sharpness = (maxLoss - baseLoss) / (1 + baseLoss) * 100;
                measurements.Add(new SharpnessMeasurement(space, epsilon, sharpness, baseLoss, maxLoss, result.Iterations, evaluations,
                    clock.Elapsed.TotalSeconds) { StartEpsilon = startEpsilon, StartLoss = startLoss });
                clock.Restart();
                (maximiser, previousMax, startEpsilon) = (best, maxLoss, epsilon);
            }
        }
        finally
        {
            using var restored = x.to(ScalarType.Float32);
            parameters.Load(restored);
        }
        return measurements;
    }

    /// <summary>
    /// The "filter" space's D, one float64 entry per parameter (in <see cref="FlatParameters"/>' order), from the flat
    /// weights <paramref name="flat"/>: for a tensor of shape [out, ...], every entry of output row k gets that row's
    /// RMS (its L2 norm / sqrt(numel)); a 1-d tensor (a bias, BN's gamma or beta) or a scalar gets the RMS of the whole
    /// tensor; none is below <see cref="FilterScaleFloor"/>. Multiplying a filter's weights by a multiplies its scale by
    /// a, so z = D^-1 y is the same coordinate before and after.
    /// </summary>
    public static Tensor FilterScales(FlatParameters parameters, Tensor flat)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        long offset = 0;
        foreach (var p in parameters.Parameters)
        {
            long count = p.numel();
            var w = flat.narrow(0, offset, count).to(ScalarType.Float64);
            if (p.dim() >= 2)
            {
                long rows = p.shape[0];
                var rms = w.view(rows, count / rows).square().mean([1]).sqrt().clamp_min(FilterScaleFloorScalar);
                parts.Add(rms.unsqueeze(1).expand(rows, count / rows).reshape(count));
            }
            else
            {
                parts.Add(w.square().mean().sqrt().clamp_min(FilterScaleFloorScalar).expand(count));
            }
            offset += count;
        }
        return cat(parts).MoveToOuterDisposeScope();
    }

    /// <summary>Keskar et al. run a fixed 10 iterations: no early stop on small gradients or progress.</summary>
    private static LbfgsBOptions KeskarOptions(int iterations) =>
        new(MaxIterations: iterations, ProjectedGradientTolerance: 0, RelativeReductionTolerance: 0);

    /// <summary>[-eps r, eps r]: the boxes of one space share their centre and nest as eps grows.</summary>
    private static (double[] Lower, double[] Upper) Box(double[] radius, double epsilon)
    {
        var upper = radius.Select(r => epsilon * r).ToArray();
        return (upper.Select(u => -u).ToArray(), upper);
    }

    /// <summary>A space: the box's radius per unit eps, how y becomes weights (x + A y) and how a weight gradient becomes dL/dy (A' g).</summary>
    private sealed class Coordinates(double[] radius, Func<double[], Tensor> weights, Func<Tensor, Tensor> toY, params Tensor[] owned) : IDisposable
    {
        public double[] Radius { get; } = radius;
        public Func<double[], Tensor> Weights { get; } = weights;
        public Func<Tensor, Tensor> ToY { get; } = toY;

        public void Dispose()
        {
            foreach (var t in owned) t.Dispose();
        }

        public static Coordinates For(FlatParameters parameters, Tensor x, string space, int subspaceDimension, int subspaceSeed)
        {
            switch (space)
            {
                case FullSpace:
                    return new(x.cpu().data<double>().Select(c => Math.Abs(c) + 1).ToArray(),
                        y => x.add(tensor(y, ScalarType.Float64).to(x.device), Scalars.One), g => g);
                case RandomSubspace:
                {
                    Tensor a;
                    using (var generator = new Generator((ulong)subspaceSeed))
                        a = randn(parameters.Count, subspaceDimension, dtype: ScalarType.Float32, generator: generator).to(x.device);
                    var x32 = x.to(ScalarType.Float32);
                    return new(PseudoInverseTimes(a, x).Select(c => Math.Abs(c) + 1).ToArray(),
                        y => x32.add(a.mv(tensor(y.Select(v => (float)v).ToArray()).to(x.device)), Scalars.One),
                        g => a.t().mv(g.to(ScalarType.Float32)).to(ScalarType.Float64), a, x32);
                }
                case FilterSpace:
                {
                    // y = D z, so f(x + D z) and its z-gradient D g: after a filter's weights are multiplied by a, its x, D
                    // and y are all a times larger, its g a times smaller, and z sees the same function. No "+1": a
                    // constant added to the radius would not scale with the weights and would break exactly that.
                    var d = FilterScales(parameters, x);
                    return new(Enumerable.Repeat(1.0, (int)parameters.Count).ToArray(),
                        z => x.add(d * tensor(z, ScalarType.Float64).to(x.device), Scalars.One), g => d * g, d);
                }
                default:
                    throw new ArgumentException($"unknown sharpness space '{space}'.", nameof(space));
            }
        }
    }

    /// <summary>A+ x = (A'A)^-1 A'x, solved in double precision.</summary>
    private static double[] PseudoInverseTimes(Tensor a, Tensor x)
    {
        int p = (int)a.shape[1];
        using var scope = NewDisposeScope();
        var gram = a.t().mm(a).to(ScalarType.Float64).cpu().data<double>().ToArray();
        var rhs = a.t().mv(x.to(ScalarType.Float32)).to(ScalarType.Float64).cpu().data<double>().ToArray();
        var matrix = Matrix<double>.Build.Dense(p, p, (i, j) => gram[i * p + j]);
        return matrix.Cholesky().Solve(Vector<double>.Build.DenseOfArray(rhs)).ToArray();
    }
}
