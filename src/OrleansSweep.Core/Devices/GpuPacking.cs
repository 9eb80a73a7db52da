namespace OrleansSweep.Core.Devices;

/// <summary>A GPU's memory as its driver reports it, in bytes.</summary>
public readonly record struct DeviceMemory(long TotalBytes, long FreeBytes);

/// <summary>
/// How many trials share one GPU when its slots are automatic. A trial's device memory depends on its model, batch and
/// BN mode, which no silo knows before a sweep arrives, so it is measured: the first trial on a GPU runs alone until its
/// first epoch ends; the memory it took then (free before it started minus free after that epoch; libtorch's caching
/// allocator keeps what a step needed, so this is the trial's working set) is its footprint. The GPU then takes as many
/// trials as fit in the memory that was free before the first one, less a reserve for fragmentation and the kernels'
/// workspaces, and never more than <see cref="MaxTrialsPerGpu"/> (past that, kernels of many small trials only queue
/// behind each other). A measurement that makes no sense (nothing taken, or the driver cannot be asked) keeps one trial.
/// </summary>
public static class GpuPacking
{
    /// <summary>What a silo publishes as an automatic GPU's slots, and the most trials it ever runs there at once.</summary>
    public const int MaxTrialsPerGpu = 8;

    /// <summary>The share of the GPU's total memory left free for fragmentation, cuDNN workspaces and other processes.</summary>
    public const double ReserveFraction = 0.1;

    /// <summary>A footprint below this is a measurement error (a trial takes at least its weights and one batch), not a size.</summary>
    public const long SmallestPlausibleFootprint = 1L << 20;

    /// <summary>The footprint of the first trial: what its first epoch took; null when the measurement is not usable.</summary>
    public static long? Footprint(DeviceMemory beforeFirstTrial, DeviceMemory afterFirstEpoch)
    {
        long taken = beforeFirstTrial.FreeBytes - afterFirstEpoch.FreeBytes;
        return taken >= SmallestPlausibleFootprint ? taken : null;
    }

    /// <summary>Trials of <paramref name="footprint"/> bytes that fit beside each other: at least 1, at most <see cref="MaxTrialsPerGpu"/>.</summary>
    public static int TrialsThatFit(DeviceMemory beforeFirstTrial, long? footprint)
    {
        if (footprint is not long bytes || bytes <= 0) return 1;
        long usable = beforeFirstTrial.FreeBytes - (long)(ReserveFraction * beforeFirstTrial.TotalBytes);
        return (int)Math.Clamp(usable / bytes, 1, MaxTrialsPerGpu);
    }
}
