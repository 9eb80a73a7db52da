using Microsoft.Extensions.Options;
using OrleansSweep.Grains.Devices;

namespace OrleansSweep.Grains.Tests;

public class DeviceSlotPoolTests
{
    private static DeviceSlotPool Pool(int devices = 1, int slots = 4, int? batchPerSlot = 64) =>
        new(Options.Create(new DeviceOptions
        {
            Devices = Enumerable.Range(0, devices).Select(i => $"cuda:{i}").ToList(), SlotsPerDevice = slots, BatchPerSlot = batchPerSlot,
        }));

    [Theory]
    [InlineData(16, 1)]
    [InlineData(64, 1)]
    [InlineData(65, 2)]
    [InlineData(256, 4)]
    [InlineData(4096, 4)]
    public void Slots_grow_with_the_batch_up_to_a_whole_device(int batch, int slots) =>
        Assert.Equal(slots, new DeviceOptions { SlotsPerDevice = 4, BatchPerSlot = 64 }.SlotsFor(batch));

    [Fact]
    public void A_cpu_packs_one_thread_trials_by_its_cores_and_memory_unless_told()
    {
        var automatic = new DeviceOptions { Devices = ["cpu"] };
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        int byMemory = (int)Math.Max(1, memory * 3 / 4 / DeviceOptions.CpuTrialMemoryBudget);
        Assert.Equal(1, automatic.EffectiveThreadsPerTrial);
        Assert.Equal(Math.Min(Environment.ProcessorCount, byMemory), automatic.SlotsOn("cpu"));
        Assert.Equal(automatic.SlotsOn("cpu"), automatic.TotalSlots);
        // Threads asked for: fewer slots, so the cores are not oversubscribed.
        var twoThreads = new DeviceOptions { Devices = ["cpu"], ThreadsPerTrial = 2 };
        Assert.Equal(Math.Max(1, Math.Min(Environment.ProcessorCount / 2, byMemory)), twoThreads.SlotsOn("cpu"));
        // Slots given without threads: the cores are shared among them, as before.
        var legacy = new DeviceOptions { Devices = ["cpu"], SlotsPerDevice = 1 };
        Assert.Equal((1, Environment.ProcessorCount), (legacy.TotalSlots, legacy.EffectiveThreadsPerTrial));
        // A GPU takes one trial unless told more.
        Assert.Equal(1, new DeviceOptions { Devices = ["cuda:0"] }.SlotsOn("cuda:0"));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(64, 4)]
    public void A_trial_whose_spec_asks_for_more_threads_than_a_slot_has_takes_as_many_slots(int threads, int slots) =>
        Assert.Equal(slots, new DeviceOptions { Devices = ["cpu"], SlotsPerDevice = 4, ThreadsPerTrial = 1 }.SlotsFor(16, threads));

    [Fact]
    public async Task Small_batch_trials_pack_onto_one_device_and_a_large_one_waits_for_all_of_it()
    {
        var pool = Pool();
        var small = new List<DeviceSlot>();
        for (int i = 0; i < 4; i++) small.Add(await pool.AcquireAsync(16, CancellationToken.None));
        Assert.Equal(0, pool.FreeSlots);

        var large = pool.AcquireAsync(256, CancellationToken.None);
        var lateSmall = pool.AcquireAsync(16, CancellationToken.None);
        small[0].Dispose();
        await Task.Delay(50);
        Assert.False(large.IsCompleted);
        Assert.False(lateSmall.IsCompleted); // first come, first served: it does not overtake the large trial

        foreach (var s in small.Skip(1)) s.Dispose();
        using var whole = await large.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(4, whole.Slots);
        Assert.False(lateSmall.IsCompleted);
        whole.Dispose();
        using var last = await lateSmall.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, last.Slots);
    }

    [Fact]
    public async Task Trials_go_to_the_device_with_the_most_free_slots_and_a_cancelled_wait_leaves_the_queue()
    {
        var pool = Pool(devices: 2, slots: 2, batchPerSlot: null);
        using var a = await pool.AcquireAsync(1, CancellationToken.None);
        using var b = await pool.AcquireAsync(1, CancellationToken.None);
        Assert.NotEqual(a.Device, b.Device);
        using var c = await pool.AcquireAsync(1, CancellationToken.None);
        using var d = await pool.AcquireAsync(1, CancellationToken.None);

        using var cancel = new CancellationTokenSource();
        var waiting = pool.AcquireAsync(1, cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        a.Dispose();
        Assert.Equal(1, pool.FreeSlots); // the cancelled waiter took nothing
    }
}
