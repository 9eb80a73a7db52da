namespace OrleansSweep.Core.Trials;

/// <summary>
/// The models a spec can name: the CIFAR ResNets of He et al. 2015 (6n+2 layers), Masters &amp; Luschi's reduced AlexNet
/// and Keskar et al.'s fully connected F1.
/// </summary>
public static class ModelArchitecture
{
    public const string AlexNetSmall = "alexnet-small";
    public const string KeskarF1 = "keskar-f1";

    private static readonly Dictionary<string, int> ResNetBlocksPerStage = new(StringComparer.Ordinal)
    {
        ["resnet8"] = 1,
        ["resnet20"] = 3,
        ["resnet32"] = 5,
    };

    public static IEnumerable<string> Known => ResNetBlocksPerStage.Keys.Append(AlexNetSmall).Append(KeskarF1);

    public static bool IsKnown(string? name) => name is AlexNetSmall or KeskarF1 || ResNetBlocksPerStage.ContainsKey(name ?? "");

    /// <summary>n of the 6n+2 family, for ResNet names.</summary>
    public static bool TryGetResNetBlocks(string? name, out int blocksPerStage) =>
        ResNetBlocksPerStage.TryGetValue(name ?? "", out blocksPerStage);
}
