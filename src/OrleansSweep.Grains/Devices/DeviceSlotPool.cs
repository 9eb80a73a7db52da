using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansSweep.Core.Devices;

namespace OrleansSweep.Grains.Devices;

/// <summary>The slots a running trial holds on one device; disposing it frees them.</summary>
public sealed class DeviceSlot(string device, int slots, int threads, Action release, Action? epochEnded = null) : IDisposable
{
    private int _released;
    public string Device { get; } = device;
    public int Slots { get; } = slots;
    public int Threads { get; } = threads;

    /// <summary>The trial finished an epoch: the first trial on an automatic GPU is measured then (see <see cref="GpuPacking"/>).</summary>
    public void EpochEnded() => epochEnded?.Invoke();

    public void Dispose() { if (Interlocked.Exchange(ref _released, 1) == 0) release(); }
}

/// <summary>
/// The silo's device slots. A trial takes the slots its batch size needs (see <see cref="DeviceOptions.SlotsFor"/>)
/// on the device with the most free ones; when none fits it waits its turn, first come first served, so a large
/// trial waiting for a whole device is not overtaken forever by small ones.
/// </summary>
/// <remarks>
/// A GPU with automatic slots offers one slot until its first trial has run an epoch, then as many as that trial's
/// measured memory allows (<see cref="GpuPacking"/>), up to the <see cref="GpuPacking.MaxTrialsPerGpu"/> it publishes.
/// Trials the sweep sent beyond what fits wait here, their leases renewed by their grains' heartbeats.
/// </remarks>
public sealed class DeviceSlotPool
{
    private readonly DeviceOptions _options;
    private readonly IDeviceMemoryProbe _memory;
    private readonly ILogger _logger;
    private readonly int[] _used;
    // What each device offers now: its configured or automatic slots; an automatic GPU's grows once measured.
    private readonly int[] _limit;
    private readonly GpuMeasurement?[] _gpu;
    private readonly LinkedList<Waiter> _queue = new();
    private readonly Lock _gate = new();

    private sealed record Waiter(int Slots, TaskCompletionSource<DeviceSlot> Grant);

    /// <summary>An automatic GPU's measurement: the free memory before its first trial, by which grant, and whether it is done.</summary>
    private sealed class GpuMeasurement
    {
        public object? Probe;
        public DeviceMemory Before;
        public bool Done;
    }

    public DeviceSlotPool(IOptions<DeviceOptions> options, IDeviceMemoryProbe? memory = null, ILogger<DeviceSlotPool>? logger = null)
    {
        _options = options.Value;
        _memory = memory ?? new CudaMemoryProbe();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var devices = _options.Devices;
        _used = new int[devices.Count];
        _gpu = [.. devices.Select(d => _options.IsAutomaticGpu(d) ? new GpuMeasurement() : null)];
        _limit = [.. devices.Select((d, i) => _gpu[i] is null ? _options.SlotsOn(d) : 1)];
    }

    public int TotalSlots => _options.TotalSlots;

    public int FreeSlots { get { lock (_gate) return _limit.Select((limit, i) => limit - _used[i]).Sum(); } }

    /// <summary>Each device's free and total slots, at this moment.</summary>
    public IReadOnlyList<(string Device, int Free, int Total)> FreeByDevice()
    {
        lock (_gate) return [.. _options.Devices.Select((device, i) => (device, _limit[i] - _used[i], _limit[i]))];
    }

    public Task<DeviceSlot> AcquireAsync(CancellationToken cancellation) => AcquireAsync(batchSize: 1, cancellation);

    /// <param name="threads">The trial's own intra-op threads (its spec's), null: the silo's; see <see cref="DeviceOptions.SlotsFor"/>.</param>
    public async Task<DeviceSlot> AcquireAsync(int batchSize, CancellationToken cancellation, int? threads = null)
    {
        if (_options.TotalSlots == 0) throw new InvalidOperationException("this silo has no device slots; trials cannot run here.");
        int slots = _options.SlotsFor(batchSize, threads);
        Waiter waiter;
        LinkedListNode<Waiter> node;
        lock (_gate)
        {
            if (_queue.Count == 0 && TryTake(slots) is { } granted) return granted;
            waiter = new Waiter(slots, new TaskCompletionSource<DeviceSlot>(TaskCreationOptions.RunContinuationsAsynchronously));
            node = _queue.AddLast(waiter);
        }
        using (cancellation.Register(() =>
        {
            lock (_gate)
            {
                if (node.List is null) return; // already granted
                _queue.Remove(node);
            }
            waiter.Grant.TrySetCanceled(cancellation);
        }))
        {
            return await waiter.Grant.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Takes slots on the device with the most free ones, if one has enough. Call under the lock.</summary>
    private DeviceSlot? TryTake(int slots)
    {
        int device = 0;
        for (int i = 1; i < _limit.Length; i++)
            if (_limit[i] - _used[i] > _limit[device] - _used[device]) device = i;
        slots = Math.Min(slots, _limit[device]); // a device smaller than the ask is the whole device
        if (_limit[device] - _used[device] < slots) return null;
        _used[device] += slots;
        var grant = new object();
        Action? epochEnded = null;
        if (_gpu[device] is { Done: false, Probe: null } gpu && _memory.Query(_options.Devices[device]) is { } before)
        {
            // The first trial on this GPU: it runs alone (the limit is 1 until measured) and is measured after its first epoch.
            gpu.Probe = grant;
            gpu.Before = before;
            epochEnded = () => Measure(device, grant);
        }
        else if (_gpu[device] is { Done: false, Probe: null } unmeasurable)
        {
            unmeasurable.Done = true; // the driver cannot be asked: one trial at a time, as a fixed single slot
            _logger.LogWarning("{Device}: its free memory cannot be read (no CUDA runtime found), so it trains one trial at a time; set SlotsPerDevice to pack more", _options.Devices[device]);
        }
        return new DeviceSlot(_options.Devices[device], slots, _options.EffectiveThreadsPerTrial, () => Release(device, slots, grant), epochEnded);
    }

    /// <summary>The first epoch of an automatic GPU's first trial ended: its footprint sets how many trials the GPU takes.</summary>
    private void Measure(int device, object grant)
    {
        var gpu = _gpu[device]!;
        lock (_gate)
        {
            if (gpu.Done || !ReferenceEquals(gpu.Probe, grant)) return;
            gpu.Done = true;
        }
        var after = _memory.Query(_options.Devices[device]);
        long? footprint = after is { } a ? GpuPacking.Footprint(gpu.Before, a) : null;
        int fit = GpuPacking.TrialsThatFit(gpu.Before, footprint);
        _logger.LogInformation("{Device}: the first trial took {Footprint} MiB of {Free} MiB free, so it takes {Trials} trial(s) at once",
            _options.Devices[device], footprint is long f ? f >> 20 : (object)"an unknown amount", gpu.Before.FreeBytes >> 20, fit);
        Grant(() => _limit[device] = fit);
    }

    private void Release(int device, int slots, object grant) => Grant(() =>
    {
        _used[device] -= slots;
        // A first trial that ends before its first epoch (a failure, a cancel) was not measured: the next one is.
        if (_gpu[device] is { Done: false } gpu && ReferenceEquals(gpu.Probe, grant)) gpu.Probe = null;
    });

    /// <summary>Applies a change that frees capacity, then serves the waiters it lets in, in order.</summary>
    private void Grant(Action change)
    {
        var grants = new List<(Waiter Waiter, DeviceSlot Slot)>();
        lock (_gate)
        {
            change();
            // Serve waiters in order; stop at the first that does not fit, so nobody is overtaken indefinitely.
            while (_queue.First is { } first && TryTake(first.Value.Slots) is { } slot)
            {
                _queue.RemoveFirst();
                grants.Add((first.Value, slot));
            }
        }
        foreach (var (waiter, slot) in grants)
            if (!waiter.Grant.TrySetResult(slot)) slot.Dispose();
    }
}
