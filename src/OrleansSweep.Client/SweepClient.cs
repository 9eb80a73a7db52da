using Polly;
using Polly.Retry;
using System.Runtime.CompilerServices;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Client;

/// <summary>The programmatic API: start, watch, inspect and cancel sweeps on a cluster (or an embedded silo).</summary>
public sealed class SweepClient(IGrainFactory grains)
{
    /// <summary>
    /// Watching outlives a lost silo: until the cluster declares it dead (tens of seconds) and re-activates the sweep
    /// elsewhere from its stored state, polls fail; they are retried with back-off for up to 3 minutes before the
    /// watcher gives up.
    /// </summary>
    private static readonly ResiliencePipeline Resilience = new ResiliencePipelineBuilder()
        .AddTimeout(TimeSpan.FromMinutes(3))
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 60,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromSeconds(5),
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not (ArgumentException or OperationCanceledException)),
        })
        .Build();

    /// <summary>Starts a sweep; starting the same spec again returns the running sweep instead of a second copy.</summary>
    public Task<SweepSnapshot> StartAsync(SweepSpec spec) => grains.GetGrain<ISweepGrain>(spec.Name).Start(spec);

    /// <summary>One look at a sweep; a read, so retried through a silo's failover like every poll of <see cref="WatchAsync"/>.</summary>
    public async Task<SweepSnapshot> GetSnapshotAsync(string sweepName, CancellationToken cancellation = default)
    {
        var sweep = grains.GetGrain<ISweepGrain>(sweepName);
        return await Resilience.ExecuteAsync(async _ => await sweep.GetSnapshot(), cancellation);
    }

    public Task CancelAsync(string sweepName) => grains.GetGrain<ISweepGrain>(sweepName).Cancel();

    public Task PauseAsync(string sweepName) => grains.GetGrain<ISweepGrain>(sweepName).Pause();

    public Task<SweepSnapshot> ResumeAsync(string sweepName) => grains.GetGrain<ISweepGrain>(sweepName).Resume();

    /// <summary>Every sweep started on the cluster, by name.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellation = default)
    {
        var registry = grains.GetGrain<ISweepRegistryGrain>(0);
        return await Resilience.ExecuteAsync(async _ => await registry.List(), cancellation);
    }

    /// <summary>
    /// Snapshots every <paramref name="interval"/> until the sweep is completed or cancelled (the last one is the final
    /// state). A paused sweep keeps being watched until it is resumed or cancelled.
    /// </summary>
    public async IAsyncEnumerable<SweepSnapshot> WatchAsync(string sweepName, TimeSpan interval,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        while (true)
        {
            var snapshot = await GetSnapshotAsync(sweepName, cancellation);
            yield return snapshot;
            if (snapshot.IsDone) yield break;
            await Task.Delay(interval, cancellation);
        }
    }
}
