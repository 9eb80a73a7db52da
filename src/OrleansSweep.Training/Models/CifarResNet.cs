using OrleansSweep.Core.Specs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Models;

/// <summary>
/// The CIFAR ResNet of He et al. 2015: a 3x3 conv with 16 channels, three stages of n basic blocks (16, 32, 64
/// channels; the 2nd and 3rd halve the resolution), global average pooling and a linear classifier: 6n+2 layers.
/// Shortcuts are their option A (identity; subsample and zero-pad channels where the shape changes), so every
/// parameter sits in a conv, a norm or the classifier. He (Kaiming-normal, fan-in) initialisation.
/// </summary>
public sealed class CifarResNet : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d stem;
    private readonly nn.Module<Tensor, Tensor> stem_norm;
    private readonly Sequential stage1;
    private readonly Sequential stage2;
    private readonly Sequential stage3;
    private readonly Linear classifier;

    public CifarResNet(int blocksPerStage, BnMode bn, int inputChannels = 1, int classes = 10) : base(nameof(CifarResNet))
    {
        bool hasNorm = bn.Kind != BnKind.None;
        stem = nn.Conv2d(inputChannels, 16, 3, padding: 1, bias: !hasNorm);
        stem_norm = Norm(bn, 16);
        stage1 = Stage(blocksPerStage, 16, 16, 1, bn);
        stage2 = Stage(blocksPerStage, 16, 32, 2, bn);
        stage3 = Stage(blocksPerStage, 32, 64, 2, bn);
        classifier = nn.Linear(64, classes);
        RegisterComponents();
        InitialiseWeights();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(stem_norm.forward(stem.forward(input)));
        x = stage3.forward(stage2.forward(stage1.forward(x)));
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1);
        return classifier.forward(x).MoveToOuterDisposeScope();
    }

    internal static nn.Module<Tensor, Tensor> Norm(BnMode bn, long channels) => bn.Kind switch
    {
        BnKind.None => nn.Identity(),
        BnKind.Batch => nn.BatchNorm2d(channels),
        _ => new GhostBatchNorm2d(channels, bn.GhostSize),
    };

    private static Sequential Stage(int blocks, int inChannels, int outChannels, int stride, BnMode bn)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < blocks; i++)
            layers.Add(($"{i}", new BasicBlock(i == 0 ? inChannels : outChannels, outChannels, i == 0 ? stride : 1, bn)));
        return nn.Sequential(layers);
    }

    private void InitialiseWeights()
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            if (parameter.dim() == 4) nn.init.kaiming_normal_(parameter, mode: nn.init.FanInOut.FanIn, nonlinearity: nn.init.NonlinearityType.ReLU);
            else if (name.EndsWith("bias", StringComparison.Ordinal) && !name.StartsWith("classifier", StringComparison.Ordinal)) parameter.zero_();
        }
    }
}

/// <summary>conv-norm-relu-conv-norm plus shortcut, then relu.</summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly nn.Module<Tensor, Tensor> norm1;
    private readonly Conv2d conv2;
    private readonly nn.Module<Tensor, Tensor> norm2;
    private readonly int _stride;
    private readonly int _padChannels;

    public BasicBlock(int inChannels, int outChannels, int stride, BnMode bn) : base(nameof(BasicBlock))
    {
        bool hasNorm = bn.Kind != BnKind.None;
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: !hasNorm);
        norm1 = CifarResNet.Norm(bn, outChannels);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1, bias: !hasNorm);
        norm2 = CifarResNet.Norm(bn, outChannels);
        _stride = stride;
        _padChannels = (outChannels - inChannels) / 2;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(norm1.forward(conv1.forward(input)));
        x = norm2.forward(conv2.forward(x));
        var shortcut = input;
        if (_stride != 1 || _padChannels != 0)
        {
            // Option A: subsample spatially, pad the new channels with zeros.
            shortcut = input[.., .., TensorIndex.Slice(null, null, _stride), TensorIndex.Slice(null, null, _stride)];
            shortcut = nn.functional.pad(shortcut, [0, 0, 0, 0, _padChannels, _padChannels]);
        }
        return nn.functional.relu(x + shortcut).MoveToOuterDisposeScope();
    }
}
