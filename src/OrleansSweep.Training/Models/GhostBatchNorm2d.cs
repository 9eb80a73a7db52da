using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Models;

/// <summary>
/// Ghost batch norm (Masters &amp; Luschi's "BN batch size"): in training, statistics are taken over consecutive
/// sub-batches of <c>ghostSize</c> examples while the SGD batch stays whole; each sub-batch updates the running
/// statistics as BN applied to it alone would. Evaluation uses the running statistics, as plain BN does.
/// </summary>
public sealed class GhostBatchNorm2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly Tensor running_mean;
    private readonly Tensor running_var;
    private readonly int _ghostSize;
    private readonly double _momentum;
    private readonly double _eps;

    public GhostBatchNorm2d(long features, int ghostSize, double momentum = 0.1, double eps = 1e-5) : base(nameof(GhostBatchNorm2d))
    {
        if (ghostSize < 1) throw new ArgumentOutOfRangeException(nameof(ghostSize), ghostSize, "ghost batch size must be >= 1.");
        _ghostSize = ghostSize;
        _momentum = momentum;
        _eps = eps;
        weight = new Parameter(ones(features));
        bias = new Parameter(zeros(features));
        running_mean = zeros(features);
        running_var = ones(features);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (!training || input.shape[0] <= _ghostSize)
            return nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, _momentum, _eps);
        if (input.shape[0] % _ghostSize != 0)
            throw new ArgumentException($"batch of {input.shape[0]} does not split into ghost batches of {_ghostSize}.");
        var chunks = input.split(_ghostSize, 0);
        var normalised = chunks.Select(c => nn.functional.batch_norm(c, running_mean, running_var, weight, bias, true, _momentum, _eps)).ToArray();
        return cat(normalised, 0);
    }
}
