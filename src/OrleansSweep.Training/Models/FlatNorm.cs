using OrleansSweep.Core.Specs;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Models;

/// <summary>
/// The BN mode's norm over the features of a fully connected layer: the 2-d norm (batch or ghost) applied to
/// [N, C, 1, 1], so fully connected layers get the same modes, running statistics and ghost batches as convolutions.
/// </summary>
internal sealed class FlatNorm : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> norm;

    private FlatNorm(nn.Module<Tensor, Tensor> inner) : base(nameof(FlatNorm))
    {
        norm = inner;
        RegisterComponents();
    }

    /// <summary>The norm for a fully connected layer of <paramref name="features"/> outputs, or identity without BN.</summary>
    public static nn.Module<Tensor, Tensor> For(BnMode bn, long features) =>
        bn.Kind == BnKind.None ? nn.Identity() : new FlatNorm(CifarResNet.Norm(bn, features));

    public override Tensor forward(Tensor input) => norm.forward(input.unsqueeze(-1).unsqueeze(-1)).flatten(1);
}
