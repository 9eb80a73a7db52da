using OrleansSweep.Training.Trainer.ScalarSafe;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Landscape;

/// <summary>
/// A model's trainable parameters seen as one flat vector, with f = mean cross-entropy over an image set evaluated
/// in chunks (gradients accumulate across chunks). The model is put in eval mode for the whole probe, so BN uses and
/// never updates its running statistics; <see cref="Dispose"/> restores the original weights and mode.
/// </summary>
public sealed class FlatParameters : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly List<Tensor> _parameters;
    private readonly List<Tensor> _original;
    private readonly bool _wasTraining;
    private readonly Tensor _images;
    private readonly Tensor _labels;
    private readonly int _chunk;

    public FlatParameters(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, int chunkSize)
    {
        if (images.shape[0] == 0) throw new ArgumentException("the evaluation set is empty (expected at least one image).", nameof(images));
        if (chunkSize < 1) throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "expected >= 1.");
        _model = model;
        _parameters = model.parameters().Where(p => p.requires_grad).Select(p => (Tensor)p).ToList();
        if (_parameters.Count == 0) throw new ArgumentException("the model has no trainable parameters.", nameof(model));
        _original = _parameters.Select(p => p.detach().clone()).ToList();
        _wasTraining = model.training;
        (_images, _labels, _chunk) = (images, labels, chunkSize);
        Count = _parameters.Sum(p => p.numel());
        model.eval();
    }

    public long Count { get; }
    public Device Device => _parameters[0].device;
    public IReadOnlyList<Tensor> Parameters => _parameters;

    /// <summary>The trained weights as one float64 vector on the parameters' device.</summary>
    public Tensor Original() => cat(_original.Select(p => p.flatten()).ToList()).to(ScalarType.Float64);

    /// <summary>Sets the model's weights to <paramref name="flat"/> (any float dtype, the parameters' device).</summary>
    public void Load(Tensor flat)
    {
        using var noGrad = no_grad();
        long offset = 0;
        foreach (var p in _parameters)
        {
            using var slice = flat.narrow(0, offset, p.numel()).view(p.shape);
            p.copy_(slice);
            offset += p.numel();
        }
    }

    /// <summary>f at the current weights and its gradient as one float64 vector.</summary>
    public (double Loss, Tensor Gradient) LossAndGradient()
    {
        foreach (var p in _parameters) p.grad?.zero_();
        long count = _images.shape[0];
        double loss = 0;
        for (long start = 0; start < count; start += _chunk)
        {
            using var scope = NewDisposeScope();
            long length = Math.Min(_chunk, count - start);
            var output = _model.forward(_images.narrow(0, start, length));
            var chunkLoss = nn.functional.cross_entropy(output, _labels.narrow(0, start, length), reduction: nn.Reduction.Sum) / count;
            chunkLoss.backward();
            loss += chunkLoss.item<float>();
        }
        var gradient = cat(_parameters.Select(p => p.grad is null ? zeros_like(p).flatten() : p.grad.flatten()).ToList()).to(ScalarType.Float64);
        return (loss, gradient);
    }

    /// <summary>H v for f (double backward per chunk, summed): v and the result are per-parameter tensors.</summary>
    public List<Tensor> HessianVectorProduct(IReadOnlyList<Tensor> vector)
    {
        long count = _images.shape[0];
        var product = _parameters.Select(p => zeros_like(p)).ToList();
        for (long start = 0; start < count; start += _chunk)
        {
            using var scope = NewDisposeScope();
            long length = Math.Min(_chunk, count - start);
            var output = _model.forward(_images.narrow(0, start, length));
            var chunkLoss = nn.functional.cross_entropy(output, _labels.narrow(0, start, length), reduction: nn.Reduction.Sum) / count;
            // retain_graph is passed explicitly: the default differs between TorchSharp versions (docs/design.md §4.2).
            var gradients = autograd.grad([chunkLoss], _parameters, create_graph: true, retain_graph: true);
            var dot = gradients.Zip(vector, (g, v) => (g * v).sum()).Aggregate((a, b) => a.add(b, Scalars.One));
            var hv = autograd.grad([dot], _parameters, retain_graph: false);
            using var noGrad = no_grad();
            for (int i = 0; i < product.Count; i++) product[i].add_(hv[i], Scalars.One);
        }
        return product;
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        using (var original = cat(_original.Select(p => p.flatten()).ToList())) Load(original);
        foreach (var p in _parameters) p.grad?.zero_();
        foreach (var t in _original) t.Dispose();
        if (_wasTraining) _model.train();
    }
}
