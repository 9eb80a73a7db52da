namespace OrleansSweep.Grains.Trials;

/// <summary>
/// Dedicated threads for training, reused from one trial to the next. Training blocks its thread for minutes, so it
/// never runs on the .NET thread pool that schedules grains; but a new OS thread per trial (a LongRunning task) cost
/// more than everything else the engine does for a short trial: a profile of 30,000 instant trials put 60% of the
/// managed CPU time in starting threads and finalizing them. A thread that finishes a trial waits for the next one,
/// and ends after <see cref="IdleLifetime"/> without one; there is never a queue (a trial with no idle thread gets a
/// new one), so a trial waits only for its device slot, as before.
/// </summary>
/// <remarks>
/// The intra-op thread count is process-wide (docs/design.md §4.3) and grad mode is set in scoped blocks, so a reused
/// thread computes as a fresh one.
/// </remarks>
public sealed class TrainingThreads
{
    public static readonly TimeSpan DefaultIdleLifetime = TimeSpan.FromSeconds(30);

    public TrainingThreads() : this(DefaultIdleLifetime) { }

    /// <param name="idleLifetime">How long a thread waits for its next trial before it ends.</param>
    public TrainingThreads(TimeSpan idleLifetime) => IdleLifetime = idleLifetime;

    public TimeSpan IdleLifetime { get; }

    private readonly object _gate = new();
    private readonly List<Worker> _idle = new();
    private int _started;

    /// <summary>Threads started so far (for tests: reuse shows as fewer threads than trials).</summary>
    public int Started => Volatile.Read(ref _started);

    /// <summary>Runs <paramref name="work"/> on an idle training thread, or on a new one.</summary>
    public Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The work, then how to announce its end: the worker announces it after it is idle again, so the caller's next
        // trial (often started as soon as this one ends) finds it.
        Action Item()
        {
            try
            {
                var result = work();
                return () => done.SetResult(result);
            }
            catch (Exception e) { return () => done.SetException(e); }
        }

        Worker? idle = null;
        lock (_gate)
        {
            if (_idle.Count > 0)
            {
                idle = _idle[^1];
                _idle.RemoveAt(_idle.Count - 1);
            }
        }
        if (idle is not null) idle.Give(Item);
        else
        {
            Interlocked.Increment(ref _started);
            new Worker(this, Item);
        }
        return done.Task;
    }

    /// <summary>Called by a worker between trials: it is idle now.</summary>
    private void Park(Worker worker)
    {
        lock (_gate) _idle.Add(worker);
    }

    /// <summary>A worker whose wait timed out ends unless it was handed a trial meanwhile.</summary>
    private bool Retire(Worker worker)
    {
        lock (_gate) return _idle.Remove(worker);
    }

    private sealed class Worker
    {
        private readonly TrainingThreads _owner;
        // Spins briefly before blocking: a next trial often follows at once (spin counts 0-35 measured alike within noise).
        private readonly ManualResetEventSlim _signal = new(false);
        private Func<Action>? _next;

        public Worker(TrainingThreads owner, Func<Action> first)
        {
            (_owner, _next) = (owner, first);
            new Thread(Loop) { IsBackground = true, Name = "OrleansSweep training" }.Start();
        }

        public void Give(Func<Action> item)
        {
            Volatile.Write(ref _next, item);
            _signal.Set();
        }

        private void Loop()
        {
            while (true)
            {
                var item = Interlocked.Exchange(ref _next, null);
                var announce = item?.Invoke();
                _owner.Park(this);
                announce?.Invoke();
                if (!_signal.Wait(_owner.IdleLifetime))
                {
                    if (_owner.Retire(this)) return;
                    _signal.Wait(); // handed a trial just as the wait timed out: it is on its way
                }
                _signal.Reset(); // one trial per wake-up: the next Give comes only after the next Park
            }
        }
    }
}
