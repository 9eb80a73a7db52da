namespace OrleansSweep.Grains.Sweeps;

public sealed class SweepOptions
{
    /// <summary>Trials a sweep keeps running at once when its spec does not say (embedded mode: the silo's slots).</summary>
    public int DefaultMaxConcurrentTrials { get; set; } = 1;

    public const string StorageName = "sweeps";
}
