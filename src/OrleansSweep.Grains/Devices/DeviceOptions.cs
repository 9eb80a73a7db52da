namespace OrleansSweep.Grains.Devices;

/// <summary>What a silo offers for training. A silo with no devices only coordinates.</summary>
public sealed class DeviceOptions
{
    /// <summary>Device names: "cpu", "cuda:0", "cuda:1", ... (a cuda device falls back to cpu when CUDA is absent).</summary>
    public List<string> Devices { get; set; } = ["cpu"];

    /// <summary>How many trials share one device at once.</summary>
    public int SlotsPerDevice { get; set; } = 1;

    /// <summary>Intra-op threads per trial; null: the machine's cores divided by the silo's slots (at least 1).</summary>
    public int? ThreadsPerTrial { get; set; }

    public int TotalSlots => Devices.Count * SlotsPerDevice;

    public int EffectiveThreadsPerTrial => ThreadsPerTrial ?? Math.Max(1, Environment.ProcessorCount / Math.Max(1, TotalSlots));
}
