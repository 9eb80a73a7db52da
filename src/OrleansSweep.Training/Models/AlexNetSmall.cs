using OrleansSweep.Core.Specs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Models;

/// <summary>
/// Masters &amp; Luschi's reduced AlexNet: five stride-1 convolutions (kernels 5,3,3,3,3; channels 16,48,96,64,64;
/// "same" padding), 3x3 max-pooling with stride 2 after the 1st, 2nd and 5th, then two fully connected layers of 256
/// and the classifier. Each conv and hidden FC layer is followed by the BN mode's norm (none, batch, ghost) and ReLU.
/// </summary>
public sealed class AlexNetSmall : nn.Module<Tensor, Tensor>
{
    private static readonly int[] Kernels = [5, 3, 3, 3, 3];
    private static readonly int[] Channels = [16, 48, 96, 64, 64];
    private static readonly bool[] PoolAfter = [true, true, false, false, true];

    private readonly Sequential features;
    private readonly Sequential head;

    public AlexNetSmall(BnMode bn, int inputChannels, int height, int width, int classes = 10) : base(nameof(AlexNetSmall))
    {
        bool hasNorm = bn.Kind != BnKind.None;
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        int channels = inputChannels;
        for (int i = 0; i < Kernels.Length; i++)
        {
            layers.Add(($"conv{i + 1}", nn.Conv2d(channels, Channels[i], Kernels[i], padding: Kernels[i] / 2, bias: !hasNorm)));
            layers.Add(($"norm{i + 1}", CifarResNet.Norm(bn, Channels[i])));
            layers.Add(($"relu{i + 1}", nn.ReLU()));
            if (PoolAfter[i])
            {
                layers.Add(($"pool{i + 1}", nn.MaxPool2d(3, 2)));
                height = (height - 3) / 2 + 1;
                width = (width - 3) / 2 + 1;
            }
            channels = Channels[i];
        }
        features = nn.Sequential(layers);
        long flat = (long)channels * height * width;
        head = nn.Sequential(
            ("fc1", nn.Linear(flat, 256, hasBias: !hasNorm)), ("norm_fc1", FlatNorm.For(bn, 256)), ("relu_fc1", nn.ReLU()),
            ("fc2", nn.Linear(256, 256, hasBias: !hasNorm)), ("norm_fc2", FlatNorm.For(bn, 256)), ("relu_fc2", nn.ReLU()),
            ("classifier", nn.Linear(256, classes)));
        RegisterComponents();
        using var noGrad = no_grad();
        foreach (var (name, parameter) in named_parameters())
            if (name.EndsWith("weight", StringComparison.Ordinal) && parameter.dim() > 1)
                nn.init.kaiming_normal_(parameter, mode: nn.init.FanInOut.FanIn, nonlinearity: nn.init.NonlinearityType.ReLU);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return head.forward(features.forward(input).flatten(1)).MoveToOuterDisposeScope();
    }
}
