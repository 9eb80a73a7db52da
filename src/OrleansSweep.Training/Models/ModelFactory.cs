using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Models;

public static class ModelFactory
{
    /// <summary>Layer constructors draw from libtorch's global RNG: build models one at a time, right after seeding.</summary>
    private static readonly Lock Construction = new();

    /// <summary>Seeds libtorch's global RNG and builds the model under a process-wide lock, so the weights depend on the seed alone.</summary>
    public static nn.Module<Tensor, Tensor> Create(ModelSpec model, BnMode bn, int seed, int channels, int height, int width)
    {
        lock (Construction)
        {
            manual_seed(seed);
            if (ModelArchitecture.TryGetResNetBlocks(model.Architecture, out int blocks)) return new CifarResNet(blocks, bn, channels);
            if (model.Architecture == ModelArchitecture.AlexNetSmall) return new AlexNetSmall(bn, channels, height, width);
            if (model.Architecture == ModelArchitecture.KeskarF1) return new KeskarF1(bn, channels, height, width);
            throw new ArgumentException($"model.architecture: unknown model '{model.Architecture}' (expected one of: {string.Join(", ", ModelArchitecture.Known)}).");
        }
    }
}
