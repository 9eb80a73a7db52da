using Microsoft.Extensions.Options;

namespace OrleansSweep.Grains.Devices;

/// <summary>The slots a running trial holds on one device; disposing it frees them.</summary>
public sealed class DeviceSlot(string device, int slots, int threads, Action release) : IDisposable
{
    private int _released;
    public string Device { get; } = device;
    public int Slots { get; } = slots;
    public int Threads { get; } = threads;
    public void Dispose() { if (Interlocked.Exchange(ref _released, 1) == 0) release(); }
}

/// <summary>
/// The silo's device slots. A trial takes the slots its batch size needs (see <see cref="DeviceOptions.SlotsFor"/>)
/// on the device with the most free ones; when none fits it waits its turn, first come first served, so a large
/// trial waiting for a whole device is not overtaken forever by small ones.
/// </summary>
public sealed class DeviceSlotPool
{
    private readonly DeviceOptions _options;
    private readonly int[] _free;
    private readonly int[] _capacity;
    private readonly LinkedList<Waiter> _queue = new();
    private readonly Lock _gate = new();

    private sealed record Waiter(int Slots, TaskCompletionSource<DeviceSlot> Grant);

    public DeviceSlotPool(IOptions<DeviceOptions> options)
    {
        _options = options.Value;
        _capacity = [.. _options.Devices.Select(_options.SlotsOn)];
        _free = [.. _capacity];
    }

    public int TotalSlots => _options.TotalSlots;

    public int FreeSlots { get { lock (_gate) return _free.Sum(); } }

    /// <summary>Each device's free and total slots, at this moment.</summary>
    public IReadOnlyList<(string Device, int Free, int Total)> FreeByDevice()
    {
        lock (_gate) return [.. _options.Devices.Select((device, i) => (device, _free[i], _capacity[i]))];
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
        int device = Array.IndexOf(_free, _free.Max());
        slots = Math.Min(slots, _capacity[device]); // a device smaller than the ask is the whole device
        if (_free[device] < slots) return null;
        _free[device] -= slots;
        return new DeviceSlot(_options.Devices[device], slots, _options.EffectiveThreadsPerTrial, () => Release(device, slots));
    }

    private void Release(int device, int slots)
    {
        var grants = new List<(Waiter Waiter, DeviceSlot Slot)>();
        lock (_gate)
        {
            _free[device] += slots;
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
