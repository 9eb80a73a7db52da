using OrleansSweep.Core.Specs;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Models;

/// <summary>
/// Keskar et al.'s F1 (Appendix B.1, their MNIST network): the flattened image, five fully connected hidden layers of
/// 512 units each followed by the BN mode's norm and ReLU, and a 10-way classifier. He initialisation like the other
/// models here (the authors' Keras used Glorot's); biases are dropped where a norm follows, as in the other models.
/// </summary>
public sealed class KeskarF1 : nn.Module<Tensor, Tensor>
{
    public const int HiddenLayers = 5;
    public const int HiddenUnits = 512;

    private readonly Sequential layers;

    public KeskarF1(BnMode bn, int inputChannels, int height, int width, int classes = 10) : base(nameof(KeskarF1))
    {
        bool hasNorm = bn.Kind != BnKind.None;
        var stack = new List<(string, nn.Module<Tensor, Tensor>)>();
        long inputs = (long)inputChannels * height * width;
        for (int i = 1; i <= HiddenLayers; i++)
        {
            stack.Add(($"fc{i}", nn.Linear(inputs, HiddenUnits, hasBias: !hasNorm)));
            stack.Add(($"norm{i}", FlatNorm.For(bn, HiddenUnits)));
            stack.Add(($"relu{i}", nn.ReLU()));
            inputs = HiddenUnits;
        }
        stack.Add(("classifier", nn.Linear(inputs, classes)));
        layers = nn.Sequential(stack);
        RegisterComponents();
        using var noGrad = no_grad();
        foreach (var (name, parameter) in named_parameters())
            if (name.EndsWith("weight", StringComparison.Ordinal) && parameter.dim() > 1)
                nn.init.kaiming_normal_(parameter, mode: nn.init.FanInOut.FanIn, nonlinearity: nn.init.NonlinearityType.ReLU);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return layers.forward(input.flatten(1)).MoveToOuterDisposeScope();
    }
}
