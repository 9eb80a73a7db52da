using Microsoft.Extensions.Options;

namespace OrleansSweep.Grains.Devices;

/// <summary>A device slot held by one running trial; disposing it frees the slot.</summary>
public sealed class DeviceSlot(string device, int threads, Action release) : IDisposable
{
    private int _released;
    public string Device { get; } = device;
    public int Threads { get; } = threads;
    public void Dispose() { if (Interlocked.Exchange(ref _released, 1) == 0) release(); }
}

/// <summary>The silo's device slots: a trial takes one before it trains, on the device with the most free slots.</summary>
public sealed class DeviceSlotPool
{
    private readonly DeviceOptions _options;
    private readonly SemaphoreSlim _free;
    private readonly int[] _inUse;
    private readonly Lock _gate = new();

    public DeviceSlotPool(IOptions<DeviceOptions> options)
    {
        _options = options.Value;
        _free = new SemaphoreSlim(_options.TotalSlots, Math.Max(1, _options.TotalSlots));
        _inUse = new int[_options.Devices.Count];
    }

    public int TotalSlots => _options.TotalSlots;
    public int FreeSlots => _free.CurrentCount;

    public async Task<DeviceSlot> AcquireAsync(CancellationToken cancellation)
    {
        if (_options.TotalSlots == 0) throw new InvalidOperationException("this silo has no device slots; trials cannot run here.");
        await _free.WaitAsync(cancellation).ConfigureAwait(false);
        lock (_gate)
        {
            int device = Array.IndexOf(_inUse, _inUse.Min());
            _inUse[device]++;
            return new DeviceSlot(_options.Devices[device], _options.EffectiveThreadsPerTrial, () =>
            {
                lock (_gate) _inUse[device]--;
                _free.Release();
            });
        }
    }
}
