using OrleansSweep.Training.Trainer.ScalarSafe;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Landscape;

/// <summary>The top Hessian eigenvalue and how the power iteration ended.</summary>
public sealed record EigenvalueEstimate(double Eigenvalue, int Iterations, bool Converged);

/// <summary>
/// The largest-magnitude eigenvalue of the Hessian of a loss with respect to a model's parameters, by power iteration
/// on Hessian-vector products (double backward, as PyHessian does): v <- Hv / |Hv|, lambda = v.Hv.
/// </summary>
public static class HessianEigenvalue
{
    /// <param name="loss">Computes the scalar loss from the current parameters (called once per iteration).</param>
    /// <param name="parameters">The parameters the Hessian is taken over (all must require gradients).</param>
    /// <param name="tolerance">Stop when the relative change of the estimate falls below this.</param>
    public static EigenvalueEstimate TopEigenvalue(Func<Tensor> loss, IReadOnlyList<Tensor> parameters, int maxIterations = 100,
        double tolerance = 1e-4, int seed = 0)
    {
        // libtorch aborts the process on some autograd misuse: check what we can before calling it.
        if (parameters.Count == 0) throw new ArgumentException("the Hessian needs at least one parameter.", nameof(parameters));
        if (parameters.Any(p => !p.requires_grad)) throw new ArgumentException("every parameter must require gradients.", nameof(parameters));
        return PowerIteration(vector =>
        {
            using var scope = NewDisposeScope();
            var value = loss();
            if (value.numel() != 1) throw new ArgumentException("the loss must be a scalar.", nameof(loss));
            // retain_graph is passed explicitly: the default differs between TorchSharp versions (docs/design.md §4.2).
            var gradients = autograd.grad([value], parameters.ToList(), create_graph: true, retain_graph: true);
            var dot = gradients.Zip(vector, (g, v) => (g * v).sum()).Aggregate((a, b) => a.add(b, Scalars.One));
            return autograd.grad([dot], parameters.ToList(), retain_graph: false).Select(h => h.detach().MoveToOuterDisposeScope()).ToList();
        }, parameters, maxIterations, tolerance, seed);
    }

    /// <summary>The top eigenvalue of the Hessian of f, the mean cross-entropy of <paramref name="model"/>'s image set (chunked).</summary>
    public static EigenvalueEstimate TopEigenvalue(FlatParameters model, int maxIterations = 100, double tolerance = 1e-4, int seed = 0,
        CancellationToken cancellation = default) =>
        PowerIteration(vector =>
        {
            cancellation.ThrowIfCancellationRequested();
            return model.HessianVectorProduct(vector);
        }, model.Parameters, maxIterations, tolerance, seed);

    private static EigenvalueEstimate PowerIteration(Func<IReadOnlyList<Tensor>, List<Tensor>> hessianTimes, IReadOnlyList<Tensor> parameters,
        int maxIterations, double tolerance, int seed)
    {
        if (maxIterations < 1) throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, "at least one iteration.");
        using var generator = new Generator((ulong)seed);
        var vector = parameters.Select(p => randn(p.shape, generator: generator).to(p.device)).ToList();
        Normalize(vector);
        double estimate = 0;
        try
        {
            for (int iteration = 1; iteration <= maxIterations; iteration++)
            {
                var product = hessianTimes(vector);
                double next = product.Zip(vector, (h, v) => { using var d = (h * v).sum(); return (double)d.item<float>(); }).Sum();
                foreach (var v in vector) v.Dispose();
                vector = product;
                Normalize(vector);
                bool converged = iteration > 1 && Math.Abs(next - estimate) <= tolerance * Math.Max(1e-12, Math.Abs(estimate));
                estimate = next;
                if (converged) return new EigenvalueEstimate(estimate, iteration, true);
            }
            return new EigenvalueEstimate(estimate, maxIterations, false);
        }
        finally
        {
            foreach (var v in vector) v.Dispose();
        }
    }

    private static void Normalize(List<Tensor> vector)
    {
        double norm = Math.Sqrt(vector.Sum(v => { using var s = v.pow(Scalars.Two).sum(); return (double)s.item<float>(); }));
        if (norm == 0 || !double.IsFinite(norm)) throw new ArithmeticException($"Hessian-vector product has norm {norm}; the loss may be flat or diverged.");
        using var divisor = norm.ToScalar();
        foreach (var v in vector) v.div_(divisor);
    }
}
