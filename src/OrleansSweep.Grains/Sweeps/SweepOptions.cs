using OrleansSweep.Core.Sweeps;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Grains.Sweeps;

public sealed class SweepOptions
{
    public const string StorageName = "sweeps";

    /// <summary>Trials a sweep keeps running at once when neither its spec nor the cluster's published device slots say.</summary>
    public int DefaultMaxConcurrentTrials { get; set; } = 1;

    /// <summary>A running trial that neither reports progress nor renews its lease for this long is presumed lost and re-dispatched.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a training trial renews its lease (well inside <see cref="LeaseDuration"/>).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Cluster mode: a running sweep holds a durable reminder, so after a whole-cluster restart it wakes by itself and
    /// resumes. The embedded mode has no reminder table; `orleans-sweep resume` (or running again) wakes it instead.
    /// </summary>
    public bool UseReminders { get; set; }

    /// <summary>Period of that reminder: the longest a restarted cluster waits before its sweeps resume.</summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Back-off and bound for transient failures (lost silo, expired lease, storage or memory trouble).</summary>
    public RetryBackoff Retry { get; set; } = RetryBackoff.Default;

    /// <summary>The settings the sweep's bookkeeping (Core's <see cref="SweepLedger"/>) runs with.</summary>
    public SweepLedgerSettings Ledger => new() { LeaseDuration = LeaseDuration, Retry = Retry, DefaultMaxConcurrentTrials = DefaultMaxConcurrentTrials };
}
