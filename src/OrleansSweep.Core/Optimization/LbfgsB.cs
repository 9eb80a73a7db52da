using MathNet.Numerics.LinearAlgebra;

namespace OrleansSweep.Core.Optimization;

/// <summary>Settings of <see cref="LbfgsB"/>; the defaults are those of the reference Fortran code (and SciPy's).</summary>
/// <param name="Memory">Correction pairs kept (m).</param>
/// <param name="MaxIterations">Iterations (each a Cauchy point, a subspace step and a line search).</param>
/// <param name="ProjectedGradientTolerance">Stop when the infinity norm of the projected gradient falls below this.</param>
/// <param name="RelativeReductionTolerance">Stop when (f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) falls below this.</param>
/// <param name="MaxLineSearchSteps">Backtracking steps tried before the line search gives up.</param>
public sealed record LbfgsBOptions(
    int Memory = 10,
    int MaxIterations = 15000,
    double ProjectedGradientTolerance = 1e-5,
    double RelativeReductionTolerance = 1e7 * 2.220446049250313e-16,
    int MaxLineSearchSteps = 20);

public enum LbfgsBStop
{
    /// <summary>The iteration budget was spent (the normal ending for Keskar's 10-iteration maximisation).</summary>
    IterationLimit,
    ProjectedGradientSmall,
    RelativeReductionSmall,
    /// <summary>No step along the search direction decreased the objective enough, even from steepest descent.</summary>
    LineSearchFailed,
}

/// <param name="X">The last accepted iterate (within the box).</param>
/// <param name="Value">The objective at <paramref name="X"/>.</param>
public sealed record LbfgsBResult(double[] X, double Value, int Iterations, int Evaluations, LbfgsBStop Stop);

/// <summary>
/// Limited-memory BFGS with bounds (Byrd, Lu, Nocedal &amp; Zhu 1995): each iteration finds the generalized Cauchy point
/// along the projected steepest-descent path of the compact-form quadratic model, minimises the model over the
/// variables still free there (direct primal method, then backtracking into the box), and takes a projected
/// backtracking (Armijo) line search towards that point. Every point evaluated lies within the box.
/// </summary>
/// <remarks>
/// Written here because no maintained .NET L-BFGS-B exists (MathNet's <c>BfgsBMinimizer</c> keeps a dense n x n
/// matrix, impossible for 0.5M parameters). Vectors are plain double arrays: the memory is (2m + 8) n doubles, and the
/// per-iteration work is O(m n) beside O(m^2 n) for the small Gram matrices, far below one pass of a network.
/// </remarks>
public static class LbfgsB
{
    private const double MachineEpsilon = 2.220446049250313e-16;
    private const double SufficientDecrease = 1e-4;

    /// <summary>Minimises <paramref name="objective"/> over the box [lower, upper].</summary>
    /// <param name="objective">Writes the gradient at x into its second argument and returns f(x).</param>
    /// <param name="onIterate">Called with each accepted iterate (after the start point), for observation.</param>
    public static LbfgsBResult Minimize(Func<double[], double[], double> objective, double[] start, double[] lower, double[] upper,
        LbfgsBOptions? options = null, Action<double[], double>? onIterate = null)
    {
        options ??= new LbfgsBOptions();
        Validate(start, lower, upper, options);
        int n = start.Length;
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = Math.Clamp(start[i], lower[i], upper[i]);
        var g = new double[n];
        int evaluations = 1;
        double f = objective(x, g);
        if (!double.IsFinite(f)) throw new ArgumentException($"the objective is {f} at the start point (expected a finite value).", nameof(start));
        bool boxed = Enumerable.Range(0, n).All(i => double.IsFinite(lower[i]) && double.IsFinite(upper[i]));

        var memory = new CorrectionMemory(n, options.Memory);
        int iterations = 0;
        while (true)
        {
            if (ProjectedGradientNorm(x, g, lower, upper) <= options.ProjectedGradientTolerance)
                return new LbfgsBResult(x, f, iterations, evaluations, LbfgsBStop.ProjectedGradientSmall);
            if (iterations >= options.MaxIterations)
                return new LbfgsBResult(x, f, iterations, evaluations, LbfgsBStop.IterationLimit);

            var (cauchy, c) = GeneralizedCauchyPoint(x, g, lower, upper, memory);
            var target = SubspaceMinimum(x, g, lower, upper, cauchy, c, memory);
            var direction = new double[n];
            double slope = 0, directionNormSquared = 0;
            for (int i = 0; i < n; i++)
            {
                direction[i] = target[i] - x[i];
                slope += g[i] * direction[i];
                directionNormSquared += direction[i] * direction[i];
            }
            if (slope >= 0 || directionNormSquared == 0)
            {
                // The quadratic model no longer predicts descent: its curvature pairs are stale. Restart from steepest descent.
                if (memory.Count > 0) { memory.Clear(); continue; }
                return new LbfgsBResult(x, f, iterations, evaluations, LbfgsBStop.LineSearchFailed);
            }

            // The reference code's first step: unit step, or 1/|d| while no curvature is known and some variable is unbounded.
            double step = memory.Count == 0 && !boxed ? Math.Min(1.0, 1.0 / Math.Sqrt(directionNormSquared)) : 1.0;
            var next = new double[n];
            var nextGradient = new double[n];
            double nextValue = double.NaN;
            bool accepted = false;
            for (int attempt = 0; attempt < options.MaxLineSearchSteps; attempt++, step *= 0.5)
            {
                double decrease = 0;
                for (int i = 0; i < n; i++)
                {
                    // Projected: the direction is feasible for steps up to 1, and the projection keeps rounding inside too.
                    next[i] = Math.Clamp(x[i] + step * direction[i], lower[i], upper[i]);
                    decrease += g[i] * (next[i] - x[i]);
                }
                evaluations++;
                nextValue = objective(next, nextGradient);
                if (double.IsFinite(nextValue) && nextValue <= f + SufficientDecrease * decrease) { accepted = true; break; }
            }
            if (!accepted)
            {
                if (memory.Count > 0) { memory.Clear(); continue; }
                return new LbfgsBResult(x, f, iterations, evaluations, LbfgsBStop.LineSearchFailed);
            }

            memory.Add(x, next, g, nextGradient);
            double reduction = (f - nextValue) / Math.Max(Math.Max(Math.Abs(f), Math.Abs(nextValue)), 1.0);
            (x, g, f) = (next, nextGradient, nextValue);
            iterations++;
            onIterate?.Invoke(x, f);
            if (reduction <= options.RelativeReductionTolerance)
                return new LbfgsBResult(x, f, iterations, evaluations, LbfgsBStop.RelativeReductionSmall);
        }
    }

    private static void Validate(double[] start, double[] lower, double[] upper, LbfgsBOptions options)
    {
        if (start.Length == 0) throw new ArgumentException("the start point is empty (expected at least one variable).", nameof(start));
        if (lower.Length != start.Length || upper.Length != start.Length)
            throw new ArgumentException($"bounds have {lower.Length} and {upper.Length} entries (expected {start.Length}, one per variable).");
        for (int i = 0; i < start.Length; i++)
        {
            if (double.IsNaN(start[i]) || double.IsInfinity(start[i])) throw new ArgumentException($"start[{i}] is {start[i]} (expected a finite number).", nameof(start));
            if (double.IsNaN(lower[i]) || double.IsNaN(upper[i]) || lower[i] > upper[i])
                throw new ArgumentException($"bounds of variable {i} are [{lower[i]}, {upper[i]}] (expected lower <= upper).");
        }
        if (options.Memory < 1) throw new ArgumentException($"memory: {options.Memory} (expected >= 1).", nameof(options));
        if (options.MaxIterations < 0) throw new ArgumentException($"maxIterations: {options.MaxIterations} (expected >= 0).", nameof(options));
        if (options.MaxLineSearchSteps < 1) throw new ArgumentException($"maxLineSearchSteps: {options.MaxLineSearchSteps} (expected >= 1).", nameof(options));
    }

    /// <summary>Infinity norm of P(x - g) - x: zero exactly at a first-order point of the box-constrained problem.</summary>
    public static double ProjectedGradientNorm(double[] x, double[] g, double[] lower, double[] upper)
    {
        double norm = 0;
        for (int i = 0; i < x.Length; i++) norm = Math.Max(norm, Math.Abs(Math.Clamp(x[i] - g[i], lower[i], upper[i]) - x[i]));
        return norm;
    }

    /// <summary>
    /// Algorithm CP of Byrd et al.: the first local minimiser of the quadratic model along the projected path x(t) =
    /// P(x - t g), visiting the breakpoints in order. Returns the point and c = W'(x_cp - x), used by the subspace step.
    /// </summary>
    private static (double[] Point, double[] C) GeneralizedCauchyPoint(double[] x, double[] g, double[] lower, double[] upper, CorrectionMemory memory)
    {
        int n = x.Length, k2 = 2 * memory.Count;
        double theta = memory.Theta;
        var breakpoint = new double[n];
        var d = new double[n];
        var free = new List<int>();
        for (int i = 0; i < n; i++)
        {
            breakpoint[i] = g[i] < 0 ? (x[i] - upper[i]) / g[i] : g[i] > 0 ? (x[i] - lower[i]) / g[i] : double.PositiveInfinity;
            d[i] = breakpoint[i] == 0 ? 0 : -g[i];
            if (breakpoint[i] > 0 && double.IsFinite(breakpoint[i])) free.Add(i);
        }
        free.Sort((a, b) => breakpoint[a].CompareTo(breakpoint[b]));

        var point = (double[])x.Clone();
        var c = Vector<double>.Build.Dense(k2);
        var p = memory.TransposeTimes(d);
        double slope = 0;
        for (int i = 0; i < n; i++) slope -= d[i] * d[i];
        if (slope >= 0) return (point, c.ToArray()); // projected gradient is zero: x is the Cauchy point
        var m = memory.M;
        double curvature = -theta * slope - (k2 > 0 ? p * (m * p) : 0);
        double minimumCurvature = MachineEpsilon * curvature;
        double best = -slope / curvature;
        double previous = 0;
        var fixedAtBound = new bool[n];
        foreach (int b in free)
        {
            double interval = breakpoint[b] - previous;
            if (best < interval) break;
            // Move to breakpoint b: variable b reaches its bound and leaves the path.
            point[b] = d[b] > 0 ? upper[b] : lower[b];
            fixedAtBound[b] = true;
            double z = point[b] - x[b];
            double gb = g[b];
            if (k2 > 0)
            {
                c += interval * p;
                var w = memory.Row(b);
                var mw = m * w;
                slope += interval * curvature + gb * gb + theta * gb * z - gb * (mw * c);
                curvature -= theta * gb * gb + 2 * gb * (mw * p) + gb * gb * (w * mw);
                p += gb * w;
            }
            else
            {
                slope += interval * curvature + gb * gb + theta * gb * z;
                curvature -= theta * gb * gb;
            }
            d[b] = 0;
            curvature = Math.Max(curvature, minimumCurvature);
            best = -slope / curvature;
            previous = breakpoint[b];
        }
        best = Math.Max(best, 0);
        double t = previous + best;
        for (int i = 0; i < n; i++)
            if (!fixedAtBound[i]) point[i] = Math.Clamp(x[i] + t * d[i], lower[i], upper[i]);
        if (k2 > 0) c += best * p;
        return (point, c.ToArray());
    }

    /// <summary>
    /// Direct primal method (Byrd et al. section 5.1): minimises the quadratic model over the variables free at the
    /// Cauchy point (the others stay at their bounds), then steps back along that direction to stay in the box.
    /// </summary>
    private static double[] SubspaceMinimum(double[] x, double[] g, double[] lower, double[] upper, double[] cauchy, double[] cArray,
        CorrectionMemory memory)
    {
        int n = x.Length, k2 = 2 * memory.Count;
        double theta = memory.Theta;
        var free = new List<int>();
        for (int i = 0; i < n; i++) if (cauchy[i] > lower[i] && cauchy[i] < upper[i]) free.Add(i);
        var target = (double[])cauchy.Clone();
        if (free.Count == 0) return target;

        // Reduced gradient of the model at the Cauchy point: r = Z'(g + theta (x_cp - x) - W M c).
        var reduced = new double[free.Count];
        for (int j = 0; j < free.Count; j++) reduced[j] = g[free[j]] + theta * (cauchy[free[j]] - x[free[j]]);
        if (k2 > 0)
        {
            var mc = memory.M * Vector<double>.Build.DenseOfArray(cArray);
            var columns = memory.Columns();
            for (int a = 0; a < k2; a++)
            {
                var (ca, sa) = columns[a];
                double scale = sa * mc[a];
                for (int j = 0; j < free.Count; j++) reduced[j] -= scale * ca[free[j]];
            }
        }
        var du = new double[free.Count];
        if (k2 == 0)
        {
            for (int j = 0; j < free.Count; j++) du[j] = -reduced[j] / theta;
        }
        else
        {
            // du = -r/theta - W_Z (I - M W_Z' W_Z / theta)^-1 M W_Z' r / theta^2, with W_Z the free rows of W.
            // Column by column over raw arrays: no allocation per variable (there may be half a million).
            var columns = memory.Columns();
            var wzr = Vector<double>.Build.Dense(k2);
            var gram = Matrix<double>.Build.Dense(k2, k2);
            for (int a = 0; a < k2; a++)
            {
                var (ca, sa) = columns[a];
                double sum = 0;
                for (int j = 0; j < free.Count; j++) sum += ca[free[j]] * reduced[j];
                wzr[a] = sa * sum;
                for (int b = a; b < k2; b++)
                {
                    var (cb, sb) = columns[b];
                    double dot = 0;
                    for (int j = 0; j < free.Count; j++) dot += ca[free[j]] * cb[free[j]];
                    gram[a, b] = gram[b, a] = sa * sb * dot;
                }
            }
            var inner = Matrix<double>.Build.DenseIdentity(k2) - memory.M * gram / theta;
            var v = inner.Solve(memory.M * wzr);
            for (int j = 0; j < free.Count; j++) du[j] = -reduced[j] / theta;
            for (int a = 0; a < k2; a++)
            {
                var (ca, sa) = columns[a];
                double scale = sa * v[a] / (theta * theta);
                for (int j = 0; j < free.Count; j++) du[j] -= scale * ca[free[j]];
            }
        }
        double alpha = 1;
        for (int j = 0; j < free.Count; j++)
        {
            int i = free[j];
            if (du[j] > 0) alpha = Math.Min(alpha, (upper[i] - cauchy[i]) / du[j]);
            else if (du[j] < 0) alpha = Math.Min(alpha, (lower[i] - cauchy[i]) / du[j]);
        }
        for (int j = 0; j < free.Count; j++)
        {
            int i = free[j];
            target[i] = Math.Clamp(cauchy[i] + alpha * du[j], lower[i], upper[i]);
        }
        return target;
    }

    /// <summary>
    /// The last m correction pairs s = x_k+1 - x_k, y = g_k+1 - g_k and the compact representation of the quasi-Newton
    /// matrix B = theta I - W M W' with W = [Y, theta S] and M = [[-D, L'], [L, theta S'S]]^-1.
    /// </summary>
    private sealed class CorrectionMemory(int n, int capacity)
    {
        private readonly List<double[]> _s = [];
        private readonly List<double[]> _y = [];

        public int Count => _s.Count;
        public double Theta { get; private set; } = 1;
        public Matrix<double> M { get; private set; } = Matrix<double>.Build.Dense(0, 0);

        public void Clear()
        {
            _s.Clear(); _y.Clear();
            Theta = 1;
            M = Matrix<double>.Build.Dense(0, 0);
        }

        public void Add(double[] x, double[] next, double[] g, double[] nextGradient)
        {
            var s = new double[n];
            var y = new double[n];
            double sy = 0, yy = 0;
            for (int i = 0; i < n; i++)
            {
                s[i] = next[i] - x[i];
                y[i] = nextGradient[i] - g[i];
                sy += s[i] * y[i];
                yy += y[i] * y[i];
            }
            // Only pairs with positive curvature keep B positive definite (the reference code's test).
            if (sy <= MachineEpsilon * yy) return;
            if (_s.Count == capacity) { _s.RemoveAt(0); _y.RemoveAt(0); }
            _s.Add(s); _y.Add(y);
            Theta = yy / sy;
            int k = _s.Count;
            var middle = Matrix<double>.Build.Dense(2 * k, 2 * k);
            for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++)
            {
                double sayb = Dot(_s[a], _y[b]);
                if (a == b) middle[a, a] = -sayb;
                if (a > b) { middle[k + a, b] = sayb; middle[b, k + a] = sayb; } // L and L'
                middle[k + a, k + b] = Theta * Dot(_s[a], _s[b]);
            }
            M = middle.Inverse();
        }

        /// <summary>Row i of W = [Y, theta S].</summary>
        public Vector<double> Row(int i)
        {
            int k = _s.Count;
            var row = Vector<double>.Build.Dense(2 * k);
            for (int a = 0; a < k; a++)
            {
                row[a] = _y[a][i];
                row[k + a] = Theta * _s[a][i];
            }
            return row;
        }

        /// <summary>The columns of W as (vector, scale): Y's as they are, S's times theta.</summary>
        public IReadOnlyList<(double[] Values, double Scale)> Columns() =>
            [.. _y.Select(y => (y, 1.0)), .. _s.Select(s => (s, Theta))];

        /// <summary>W' v.</summary>
        public Vector<double> TransposeTimes(double[] v)
        {
            int k = _s.Count;
            var result = Vector<double>.Build.Dense(2 * k);
            for (int a = 0; a < k; a++)
            {
                result[a] = Dot(_y[a], v);
                result[k + a] = Theta * Dot(_s[a], v);
            }
            return result;
        }

        private static double Dot(double[] a, double[] b)
        {
            double sum = 0;
            for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
            return sum;
        }
    }
}
