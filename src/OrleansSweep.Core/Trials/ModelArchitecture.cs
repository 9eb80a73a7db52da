namespace OrleansSweep.Core.Trials;

/// <summary>The CIFAR ResNets of He et al. 2015: 6n+2 layers, stages of 16/32/64 channels.</summary>
public static class ModelArchitecture
{
    private static readonly Dictionary<string, int> BlocksPerStage = new(StringComparer.Ordinal)
    {
        ["resnet8"] = 1,
        ["resnet20"] = 3,
        ["resnet32"] = 5,
    };

    public static IEnumerable<string> Known => BlocksPerStage.Keys;

    /// <summary>n of the 6n+2 family for a known architecture name.</summary>
    public static bool TryParse(string? name, out int blocksPerStage) =>
        BlocksPerStage.TryGetValue(name ?? "", out blocksPerStage);
}
