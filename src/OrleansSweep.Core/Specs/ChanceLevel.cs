namespace OrleansSweep.Core.Specs;

/// <summary>Chance accuracy of the datasets the product trains on.</summary>
public static class ChanceLevel
{
    /// <summary>Fashion-MNIST, MNIST and CIFAR-10 all have ten classes.</summary>
    public const int Classes = 10;
    public const double Accuracy = 1.0 / Classes;
}
