using System.Diagnostics;
using MathNet.Numerics.LinearAlgebra;
using OrleansSweep.Core.Optimization;
using OrleansSweep.Core.Results;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Landscape;

/// <summary>
/// Keskar et al.'s eps-sharpness: phi(x, eps, A) = (max_{y in C_eps} f(x + A y) - f(x)) / (1 + f(x)) * 100, with
/// C_eps = { y : |y_i| &lt;= eps (|(A+ x)_i| + 1) }, maximised by L-BFGS-B from y = 0. The reported max is the largest
/// f seen at any point the optimiser evaluated (all lie in the box). f is the mean cross-entropy of the
/// <see cref="FlatParameters"/>' image set, in eval mode; the trained weights are restored afterwards.
/// </summary>
public static class Sharpness
{
    public const string FullSpace = "full";
    public const string RandomSubspace = "random";

    /// <param name="space">"full" (A = I, y has one entry per parameter) or "random" (A is n x p with i.i.d. standard
    /// normal entries drawn from <paramref name="subspaceSeed"/>; A+ x by least squares through the normal equations,
    /// well conditioned because n is much larger than p).</param>
    public static SharpnessMeasurement Measure(FlatParameters parameters, string space, double epsilon, int iterations = 10,
        int subspaceDimension = 100, int subspaceSeed = 0, CancellationToken cancellation = default)
    {
        if (!(double.IsFinite(epsilon) && epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "expected a finite epsilon > 0.");
        var clock = Stopwatch.StartNew();
        using var x = parameters.Original();
        var (baseLoss, baseGradient) = parameters.LossAndGradient();
        baseGradient.Dispose();
        double maxLoss = baseLoss;
        int evaluations = 0;

        LbfgsBResult result;
        // The space decides the start box, how y becomes weights (x + A y) and how a weight gradient becomes dL/dy (A' g).
        Tensor? a = null;
        Tensor? x32 = null;
        try
        {
            double[] center;
            Func<double[], Tensor> weights;
            Func<Tensor, Tensor> toY;
            if (space == FullSpace)
            {
                center = x.cpu().data<double>().ToArray();
                weights = y => x + tensor(y, ScalarType.Float64).to(x.device);
                toY = g => g;
            }
            else if (space == RandomSubspace)
            {
                if (subspaceDimension < 1) throw new ArgumentOutOfRangeException(nameof(subspaceDimension), subspaceDimension, "expected p >= 1.");
                using (var generator = new Generator((ulong)subspaceSeed))
                    a = randn(parameters.Count, subspaceDimension, dtype: ScalarType.Float32, generator: generator).to(x.device);
                center = PseudoInverseTimes(a, x);
                x32 = x.to(ScalarType.Float32);
                var (aa, xx) = (a, x32);
                weights = y => xx + aa.mv(tensor(y.Select(v => (float)v).ToArray()).to(x.device));
                toY = g => aa.t().mv(g.to(ScalarType.Float32)).to(ScalarType.Float64);
            }
            else
            {
                throw new ArgumentException($"unknown sharpness space '{space}' (expected {FullSpace} or {RandomSubspace}).", nameof(space));
            }
            var (lower, upper) = Box(center, epsilon);
            result = LbfgsB.Minimize((y, gradient) =>
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                parameters.Load(weights(y));
                var (loss, g) = parameters.LossAndGradient();
                toY(g).neg().cpu().data<double>().CopyTo(gradient);
                evaluations++;
                maxLoss = Math.Max(maxLoss, double.IsFinite(loss) ? loss : maxLoss);
                return -loss; // L-BFGS-B minimises: the max of f is the min of -f
            }, new double[center.Length], lower, upper, KeskarOptions(iterations));
        }
        finally
        {
            a?.Dispose();
            x32?.Dispose();
        }
        using (var restored = x.to(ScalarType.Float32)) parameters.Load(restored);
        double sharpness = (maxLoss - baseLoss) / (1 + baseLoss) * 100;
        return new SharpnessMeasurement(space, epsilon, sharpness, baseLoss, maxLoss, result.Iterations, evaluations, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Keskar et al. run a fixed 10 iterations: no early stop on small gradients or progress.</summary>
    private static LbfgsBOptions KeskarOptions(int iterations) =>
        new(MaxIterations: iterations, ProjectedGradientTolerance: 0, RelativeReductionTolerance: 0);

    private static (double[] Lower, double[] Upper) Box(double[] center, double epsilon)
    {
        var upper = center.Select(c => epsilon * (Math.Abs(c) + 1)).ToArray();
        return (upper.Select(u => -u).ToArray(), upper);
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
