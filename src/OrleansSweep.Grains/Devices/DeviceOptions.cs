namespace OrleansSweep.Grains.Devices;

/// <summary>What a silo offers for training. A silo with no devices only coordinates.</summary>
public sealed class DeviceOptions
{
    /// <summary>Device names: "cpu", "cuda:0", "cuda:1", ... (a cuda device falls back to cpu when CUDA is absent).</summary>
    public List<string> Devices { get; set; } = ["cpu"];

    /// <summary>Capacity of one device in slots: how many small trials share it at once.</summary>
    public int SlotsPerDevice { get; set; } = 1;

    /// <summary>
    /// Packing: a trial with batch size m takes ceil(m / BatchPerSlot) slots of its device (at least 1, at most all),
    /// so small-batch trials pack several to a device while large-batch ones get it to themselves. Null: one slot per
    /// trial whatever its batch.
    /// </summary>
    public int? BatchPerSlot { get; set; }

    /// <summary>Intra-op threads per trial; null: the machine's cores divided by the silo's slots (at least 1).</summary>
    public int? ThreadsPerTrial { get; set; }

    public int TotalSlots => Devices.Count * SlotsPerDevice;

    public int EffectiveThreadsPerTrial => ThreadsPerTrial ?? Math.Max(1, Environment.ProcessorCount / Math.Max(1, TotalSlots));

    /// <summary>Slots a trial of batch size <paramref name="batchSize"/> occupies on one device.</summary>
    public int SlotsFor(int batchSize) =>
        BatchPerSlot is int perSlot && perSlot > 0
            ? Math.Clamp((batchSize + perSlot - 1) / perSlot, 1, Math.Max(1, SlotsPerDevice))
            : 1;
}
