using Microsoft.Extensions.Options;
using OrleansSweep.Core.Devices;
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
        // An automatic GPU publishes the most it may take; how many it does take is measured (below).
        Assert.Equal(GpuPacking.MaxTrialsPerGpu, new DeviceOptions { Devices = ["cuda:0"] }.SlotsOn("cuda:0"));
        Assert.True(new DeviceOptions { Devices = ["cuda:0"] }.IsAutomaticGpu("cuda:0"));
        Assert.False(new DeviceOptions { Devices = ["cuda:0"], SlotsPerDevice = 1 }.IsAutomaticGpu("cuda:0"));
        // ... and its ceiling does not divide the cores among trials that are not running: a GPU trial keeps them all.
        Assert.Equal(Environment.ProcessorCount, new DeviceOptions { Devices = ["cuda:0"] }.EffectiveThreadsPerTrial);
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

    /// <summary>cuda:0 with whatever free memory the test sets; any other device cannot be asked.</summary>
    private sealed class FakeGpu(long total, long free) : IDeviceMemoryProbe
    {
        public long Free = free;
        public int Queries;
        public DeviceMemory? Query(string device) { Queries++; return device == "cuda:0" ? new DeviceMemory(total, Free) : null; }
    }

    private static DeviceSlotPool AutomaticGpu(IDeviceMemoryProbe gpu, params string[] devices) =>
        new(Options.Create(new DeviceOptions { Devices = devices.Length == 0 ? ["cuda:0"] : [.. devices] }), gpu);

    [Fact]
    public async Task An_automatic_gpu_runs_its_first_trial_alone_then_as_many_as_its_measured_memory_holds()
    {
        const long GiB = 1L << 30;
        var gpu = new FakeGpu(total: 80 * GiB, free: 79 * GiB);
        var pool = AutomaticGpu(gpu);
        var first = await pool.AcquireAsync(128, CancellationToken.None);
        var waiting = Enumerable.Range(0, 9).Select(_ => pool.AcquireAsync(128, CancellationToken.None)).ToList();
        Assert.All(waiting, w => Assert.False(w.IsCompleted)); // alone until measured
        Assert.Equal((0, 1), (pool.FreeSlots, pool.FreeByDevice().Single().Total));

        gpu.Free -= 10 * GiB; // the first epoch took 10 GiB
        first.EpochEnded();
        // (79 GiB free - 8 GiB reserve) / 10 GiB = 7 trials at once: the first and six more, in their order.
        await Task.WhenAll(waiting.Take(6)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(waiting.Skip(6), w => Assert.False(w.IsCompleted));
        Assert.Equal(7, pool.FreeByDevice().Single().Total);
        first.EpochEnded(); // measured once: a later epoch changes nothing
        Assert.Equal(7, pool.FreeByDevice().Single().Total);
        first.Dispose();
        await waiting[6].WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(waiting.Skip(7), w => Assert.False(w.IsCompleted));
        Assert.Equal(GpuPacking.MaxTrialsPerGpu, new DeviceOptions { Devices = ["cuda:0"] }.TotalSlots); // what the silo publishes
    }

    [Fact]
    public async Task Packing_stays_within_its_bounds_and_an_unmeasured_first_trial_hands_the_measurement_on()
    {
        const long GiB = 1L << 30;
        // A tiny footprint: no more than the ceiling.
        var roomy = new FakeGpu(80 * GiB, 80 * GiB);
        var pool = AutomaticGpu(roomy);
        var first = await pool.AcquireAsync(16, CancellationToken.None);
        roomy.Free -= 100L << 20;
        first.EpochEnded();
        Assert.Equal(GpuPacking.MaxTrialsPerGpu, pool.FreeByDevice().Single().Total);

        // A first trial that fails before its first epoch is not measured: the next trial is, and runs alone meanwhile.
        var tight = new FakeGpu(16 * GiB, 15 * GiB);
        pool = AutomaticGpu(tight);
        var failed = await pool.AcquireAsync(16, CancellationToken.None);
        var second = pool.AcquireAsync(16, CancellationToken.None);
        var third = pool.AcquireAsync(16, CancellationToken.None);
        failed.Dispose();
        var measured = await second;
        Assert.False(third.IsCompleted);
        tight.Free -= 12 * GiB; // a footprint larger than what would be left: one at a time
        measured.EpochEnded();
        Assert.Equal(1, pool.FreeByDevice().Single().Total);
        Assert.False(third.IsCompleted);
        measured.Dispose();
        (await third).Dispose();

        // Nothing measurable (a driver that answers nothing, a CPU beside it): one trial at a time, asked once.
        var blind = new FakeGpu(16 * GiB, 15 * GiB);
        pool = AutomaticGpu(blind, "cuda:1");
        var only = await pool.AcquireAsync(16, CancellationToken.None);
        var next = pool.AcquireAsync(16, CancellationToken.None);
        only.EpochEnded();
        Assert.False(next.IsCompleted);
        only.Dispose();
        (await next).Dispose();
        Assert.Equal(1, blind.Queries);
    }

    [Theory]
    [InlineData(10L << 30, 7)]    // 79 GiB free: (79 - 8) / 10
    [InlineData(79L << 30, 1)]    // nothing would be left beside it
    [InlineData(1L << 19, 1)]     // below 1 MiB: a measurement error, not a size
    [InlineData(-5L << 20, 1)]    // memory came back: no footprint
    public void Footprints_become_trials_per_gpu(long taken, int trials)
    {
        var before = new DeviceMemory(80L << 30, 79L << 30);
        var after = before with { FreeBytes = before.FreeBytes - taken };
        Assert.Equal(trials, GpuPacking.TrialsThatFit(before, GpuPacking.Footprint(before, after)));
    }
}
