namespace OrleansSweep.Grains.Sweeps;

/// <summary>
/// Group commit for a grain's persisted state: every caller returns only after a write that started after its change
/// has completed (so nothing is acknowledged before it is durable), but changes made while a write is in flight share
/// the next write instead of each paying for one. Single-threaded by construction: use only from the grain's turns.
/// </summary>
public sealed class CoalescingStateWriter(Func<Task> write)
{
    private long _changes;
    private long _durable;
    private Task? _inFlight;

    /// <summary>Whether a change has not been durably written yet (its write failed, or is still running).</summary>
    public bool HasUndurableChanges => _durable < _changes;

    /// <summary>Returns once every change so far is durable: writes again only when one is not (a failed write).</summary>
    public Task EnsureDurableAsync() => HasUndurableChanges ? WriteAsync() : Task.CompletedTask;

    public async Task WriteAsync()
    {
        long mine = ++_changes;
        while (_durable < mine)
        {
            if (_inFlight is not null)
            {
                // Someone else's write is running; it may not include our change. Wait for it, then look again.
                try { await _inFlight; } catch { /* its caller sees the error; we try our own write next */ }
                continue;
            }
            long covered = _changes;
            _inFlight = write();
            try
            {
                await _inFlight;
                _durable = Math.Max(_durable, covered);
            }
            finally
            {
                _inFlight = null;
            }
        }
    }
}
