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

    /// <summary>Back-off and bound for transient failures (lost silo, expired lease, storage or memory trouble).</summary>
    public RetryBackoff Retry { get; set; } = RetryBackoff.Default;
}
