using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;
using OrleansSweep.Core.Optimization;

namespace OrleansSweep.Core.Tests;

public class LbfgsBTests
{
    /// <summary>Wraps an objective so that every point it is asked about is checked against the box.</summary>
    private sealed class BoxWatcher(double[] lower, double[] upper, Func<double[], double[], double> inner)
    {
        public int Evaluations { get; private set; }
        public int Iterates { get; private set; }

        public double Evaluate(double[] x, double[] gradient)
        {
            Evaluations++;
            AssertInBox(x);
            return inner(x, gradient);
        }

        public void OnIterate(double[] x, double value)
        {
            Iterates++;
            AssertInBox(x);
        }

        private void AssertInBox(double[] x)
        {
            for (int i = 0; i < x.Length; i++)
                Assert.True(x[i] >= lower[i] && x[i] <= upper[i], $"x[{i}] = {x[i]} outside [{lower[i]}, {upper[i]}]");
        }
    }

    private static LbfgsBResult MinimizeWatched(Func<double[], double[], double> f, double[] start, double[] lower, double[] upper,
        LbfgsBOptions? options = null)
    {
        var watcher = new BoxWatcher(lower, upper, f);
        var result = LbfgsB.Minimize(watcher.Evaluate, start, lower, upper, options, watcher.OnIterate);
        Assert.Equal(result.Iterations, watcher.Iterates);
        Assert.Equal(result.Evaluations, watcher.Evaluations);
        return result;
    }

    /// <summary>f = sum_i h_i (x_i - c_i)^2 / 2: the box optimum is c clamped into the box.</summary>
    private static Func<double[], double[], double> SeparableQuadratic(double[] h, double[] c) => (x, g) =>
    {
        double f = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double r = x[i] - c[i];
            f += 0.5 * h[i] * r * r;
            g[i] = h[i] * r;
        }
        return f;
    };

    private static double Rosenbrock(double[] x, double[] g)
    {
        double a = 1 - x[0], b = x[1] - x[0] * x[0];
        g[0] = -2 * a - 400 * x[0] * b;
        g[1] = 200 * b;
        return a * a + 100 * b * b;
    }

    [Fact]
    public void Quadratic_whose_optimum_lies_outside_the_box_ends_on_the_bounds()
    {
        double[] h = [1, 4, 9, 0.5], c = [3, -3, 0.25, -0.5];
        double[] lower = [-1, -1, -1, -1], upper = [1, 1, 1, 1];
        var result = MinimizeWatched(SeparableQuadratic(h, c), [0, 0, 0, 0], lower, upper);
        double[] expected = [1, -1, 0.25, -0.5];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], result.X[i], 6);
        Assert.NotEqual(LbfgsBStop.LineSearchFailed, result.Stop);
    }

    [Fact]
    public void Large_ill_conditioned_quadratic_uses_the_limited_memory_and_reaches_the_clamped_optimum()
    {
        const int n = 2000;
        var random = new Random(7);
        var h = Enumerable.Range(0, n).Select(i => Math.Pow(10, 3.0 * i / n)).ToArray(); // condition number 1000
        var c = Enumerable.Range(0, n).Select(_ => random.NextDouble() * 4 - 2).ToArray();
        var lower = Enumerable.Repeat(-1.0, n).ToArray();
        var upper = Enumerable.Repeat(1.0, n).ToArray();
        var result = MinimizeWatched(SeparableQuadratic(h, c), new double[n], lower, upper,
            new LbfgsBOptions(ProjectedGradientTolerance: 1e-8, RelativeReductionTolerance: 0));
        for (int i = 0; i < n; i++) Assert.Equal(Math.Clamp(c[i], -1, 1), result.X[i], 1e-5);
        Assert.True(result.Iterations > 1);
    }

    [Fact]
    public void Rosenbrock_in_a_box_that_contains_its_minimum_finds_one_one()
    {
        var result = MinimizeWatched(Rosenbrock, [-1.2, 1], [-2, -2], [2, 2],
            new LbfgsBOptions(ProjectedGradientTolerance: 1e-9, RelativeReductionTolerance: 0));
        Assert.Equal(1, result.X[0], 5);
        Assert.Equal(1, result.X[1], 5);
    }

    [Fact]
    public void Rosenbrock_cut_by_a_bound_finds_the_constrained_minimum_on_that_bound()
    {
        // With x0 <= 0.5 the minimum is x = (0.5, 0.25), f = 0.25 (x1 = x0^2 makes the second term vanish).
        var result = MinimizeWatched(Rosenbrock, [-1.2, 1], [-2, -2], [0.5, 2],
            new LbfgsBOptions(ProjectedGradientTolerance: 1e-9, RelativeReductionTolerance: 0));
        Assert.Equal(0.5, result.X[0], 6);
        Assert.Equal(0.25, result.X[1], 5);
        Assert.Equal(0.25, result.Value, 6);
    }

    public static TheoryData<int> Seeds => [1, 2, 3, 4, 5];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Agrees_with_MathNet_BfgsBMinimizer_on_random_box_constrained_convex_quadratics(int seed)
    {
        // f = x'Qx/2 - b'x with Q = R'R + I: a coupled (not separable) problem whose box optimum has active bounds.
        const int n = 6;
        var random = new Random(seed);
        var r = Matrix<double>.Build.Dense(n, n, (_, _) => random.NextDouble() * 2 - 1);
        var q = r.TransposeThisAndMultiply(r) + Matrix<double>.Build.DenseIdentity(n);
        var b = Vector<double>.Build.Dense(n, _ => random.NextDouble() * 8 - 4);
        var lower = Vector<double>.Build.Dense(n, -1);
        var upper = Vector<double>.Build.Dense(n, 1);
        var start = Vector<double>.Build.Dense(n, _ => random.NextDouble() - 0.5);

        double Ours(double[] x, double[] g)
        {
            var xv = Vector<double>.Build.DenseOfArray(x);
            var qx = q * xv;
            (qx - b).CopyTo(Vector<double>.Build.Dense(g));
            for (int i = 0; i < n; i++) g[i] = qx[i] - b[i];
            return 0.5 * xv * qx - b * xv;
        }
        var ours = MinimizeWatched(Ours, start.ToArray(), lower.ToArray(), upper.ToArray(),
            new LbfgsBOptions(ProjectedGradientTolerance: 1e-10, RelativeReductionTolerance: 0));

        var objective = ObjectiveFunction.Gradient(x => 0.5 * x * (q * x) - b * x, x => q * x - b);
        var reference = new BfgsBMinimizer(1e-10, 1e-12, 1e-14, 1000).FindMinimum(objective, lower, upper, start);

        for (int i = 0; i < n; i++) Assert.Equal(reference.MinimizingPoint[i], ours.X[i], 5);
        Assert.Equal(reference.FunctionInfoAtMinimum.Value, ours.Value, 8);
    }

    [Fact]
    public void Agrees_with_MathNet_BfgsBMinimizer_on_a_boxed_Rosenbrock()
    {
        var lower = Vector<double>.Build.DenseOfArray([-1.5, -0.5]);
        var upper = Vector<double>.Build.DenseOfArray([0.8, 0.5]);
        var start = Vector<double>.Build.DenseOfArray([-1.2, 0.4]);
        var ours = MinimizeWatched(Rosenbrock, start.ToArray(), lower.ToArray(), upper.ToArray(),
            new LbfgsBOptions(ProjectedGradientTolerance: 1e-10, RelativeReductionTolerance: 0));
        var objective = ObjectiveFunction.Gradient(
            x => { var g = new double[2]; return Rosenbrock(x.ToArray(), g); },
            x => { var g = new double[2]; Rosenbrock(x.ToArray(), g); return Vector<double>.Build.DenseOfArray(g); });
        var reference = new BfgsBMinimizer(1e-10, 1e-12, 1e-14, 10_000).FindMinimum(objective, lower, upper, start);
        Assert.Equal(reference.MinimizingPoint[0], ours.X[0], 5);
        Assert.Equal(reference.MinimizingPoint[1], ours.X[1], 5);
    }

    [Fact]
    public void Keskar_style_maximisation_stops_after_exactly_ten_iterations_inside_the_box()
    {
        // Maximise a bumpy function (minimise its negative) in a small box around x, as the sharpness measure does.
        const int n = 50;
        var x0 = Enumerable.Range(0, n).Select(i => Math.Sin(i)).ToArray();
        // A box wide enough that the maximum is inside it (a tiny box ends at a corner, a KKT point, in one step).
        const double eps = 0.3;
        var lower = x0.Select(v => -eps * (Math.Abs(v) + 1)).ToArray();
        var upper = x0.Select(v => eps * (Math.Abs(v) + 1)).ToArray();
        double NegativeBumpy(double[] y, double[] g)
        {
            double f = 0;
            for (int i = 0; i < n; i++)
            {
                double z = x0[i] + y[i];
                f -= Math.Cos(3 * z) + 0.1 * z * z * (i % 3);
                g[i] = 3 * Math.Sin(3 * z) - 0.2 * z * (i % 3);
            }
            return f;
        }
        var result = MinimizeWatched(NegativeBumpy, new double[n], lower, upper,
            new LbfgsBOptions(MaxIterations: 10, ProjectedGradientTolerance: 0, RelativeReductionTolerance: 0));
        Assert.Equal(10, result.Iterations);
        Assert.Equal(LbfgsBStop.IterationLimit, result.Stop);
        Assert.True(result.Value < NegativeBumpy(new double[n], new double[n]));
    }

    [Fact]
    public void A_start_outside_the_box_is_projected_into_it_first()
    {
        var result = MinimizeWatched(SeparableQuadratic([1, 1], [0, 0]), [5, -5], [-1, -1], [1, 1]);
        Assert.Equal(0, result.X[0], 6);
        Assert.Equal(0, result.X[1], 6);
    }

    [Fact]
    public void Bad_bounds_are_rejected_with_the_variable_named()
    {
        var f = SeparableQuadratic([1, 1], [0, 0]);
        var inverted = Assert.Throws<ArgumentException>(() => LbfgsB.Minimize(f, [0, 0], [-1, 2], [1, 1]));
        Assert.Contains("variable 1", inverted.Message);
        var mismatched = Assert.Throws<ArgumentException>(() => LbfgsB.Minimize(f, [0, 0], [-1], [1, 1]));
        Assert.Contains("expected 2", mismatched.Message);
        Assert.Throws<ArgumentException>(() => LbfgsB.Minimize(f, [double.NaN, 0], [-1, -1], [1, 1]));
    }
}
