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
    /// Calls outlive a lost silo: until the cluster declares it dead (tens of seconds) and re-activates the sweep
    /// elsewhere from its stored state, calls to it fail; they are retried with back-off for up to 3 minutes before the
    /// caller gives up. Safe for control calls too, because each is idempotent: starting the same spec returns the
    /// sweep already started, pausing or cancelling a sweep that is not running does nothing, resuming a running one
    /// returns it. A refusal (unknown sweep, rejected spec) is an answer, not a failure, and is never retried.
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
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not (ArgumentException or SpecRejectedException or OperationCanceledException)),
        })
        .Build();

    /// <summary>Starts a sweep; starting the same spec again returns the running sweep instead of a second copy.</summary>
    public Task<SweepSnapshot> StartAsync(SweepSpec spec, CancellationToken cancellation = default) =>
        Retried(spec.Name, sweep => sweep.Start(spec), cancellation);

    /// <summary>One look at a sweep; a read, so retried through a silo's failover like every poll of <see cref="WatchAsync"/>.</summary>
    public Task<SweepSnapshot> GetSnapshotAsync(string sweepName, CancellationToken cancellation = default) =>
        Retried(sweepName, sweep => sweep.GetSnapshot(), cancellation);

    public Task CancelAsync(string sweepName, CancellationToken cancellation = default) =>
        Retried(sweepName, async sweep => { await sweep.Cancel(); return true; }, cancellation);

    public Task PauseAsync(string sweepName, CancellationToken cancellation = default) =>
        Retried(sweepName, async sweep => { await sweep.Pause(); return true; }, cancellation);

    public Task<SweepSnapshot> ResumeAsync(string sweepName, CancellationToken cancellation = default) =>
        Retried(sweepName, sweep => sweep.Resume(), cancellation);

    private async Task<T> Retried<T>(string sweepName, Func<ISweepGrain, Task<T>> call, CancellationToken cancellation)
    {
        var sweep = grains.GetGrain<ISweepGrain>(sweepName);
        return await Resilience.ExecuteAsync(async _ => await call(sweep), cancellation);
    }

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
