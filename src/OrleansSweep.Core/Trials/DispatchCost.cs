namespace OrleansSweep.Core.Trials;

/// <summary>
/// A trial's relative cost, for ordering dispatch (never for accounting). Every cell of a grid trains on the same images
/// for the same epochs, so what differs is the batch: an epoch of N images at batch m costs N/m steps of (overhead + m)
/// samples' work. The overhead (launching the step's kernels, the optimizer's update, the divergence check) was measured
/// on ResNet-8 with one thread as about three samples' work: 3.3 ms per step against 1.1 ms per sample
/// (benchmarks/README.md's throughput table at batch 8 and 128). So an epoch at m = 2 costs 2.5x one at m = 128.
/// </summary>
public static class DispatchCost
{
    public const double StepOverheadInSamples = 3;

    /// <summary>Cost of one epoch per training image, in samples' work: 1 + overhead / m.</summary>
    public static double PerEpoch(int batchSize) => 1 + StepOverheadInSamples / Math.Max(1, batchSize);
}
