using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Registry;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Client;

/// <summary>The programmatic API: start, watch, inspect and cancel sweeps on a cluster (or an embedded silo).</summary>
/// <remarks>
/// Calls outlive a lost silo: until the cluster declares it dead (tens of seconds) and re-activates the sweep elsewhere
/// from its stored state, calls to it fail; they are retried with back-off (the <see cref="PipelineName"/> pipeline of
/// Polly's registry, so each retry is logged and counted) for up to 3 minutes, after which the caller gets a
/// <see cref="ClusterUnavailableException"/>. Safe for control calls too, because each is idempotent: starting the same
/// spec returns the sweep already started, pausing or cancelling a sweep that is not running does nothing, resuming a
/// running one returns it. A refusal (unknown sweep, rejected spec) is an answer, not a failure, and is never retried.
/// </remarks>
public sealed class SweepClient
{
    /// <summary>The name of the client's call pipeline in Polly's registry (<see cref="SweepClientServices.AddOrleansSweepClient"/>).</summary>
    public const string PipelineName = "orleans-sweep-client";

    private readonly IGrainFactory _grains;
    private readonly ResiliencePipeline _calls;

    /// <summary>A client whose retries are logged and counted through the registry (what dependency injection builds).</summary>
    [ActivatorUtilitiesConstructor]
    public SweepClient(IGrainFactory grains, ResiliencePipelineProvider<string> pipelines) : this(grains, pipelines.GetPipeline(PipelineName)) { }

    /// <summary>A client with the same retries, built here (no registry: nothing logs them).</summary>
    public SweepClient(IGrainFactory grains) : this(grains, new ResiliencePipelineBuilder().AddSweepClientCalls().Build()) { }

    private SweepClient(IGrainFactory grains, ResiliencePipeline calls) => (_grains, _calls) = (grains, calls);

    /// <summary>
    /// Starts a sweep and answers with where it stands, without its results (a few hundred bytes whatever its size);
    /// submitting the same spec again leaves the running sweep as it is, one that only adds grid values extends it.
    /// </summary>
    public Task<SweepChanges> SubmitAsync(SweepSpec spec, CancellationToken cancellation = default) =>
        Retried(spec.Name, sweep => sweep.Start(spec), cancellation);

    /// <summary>Like <see cref="SubmitAsync"/>, answering with a whole snapshot (every status and result: costs the sweep's size).</summary>
    public async Task<SweepSnapshot> StartAsync(SweepSpec spec, CancellationToken cancellation = default)
    {
        await SubmitAsync(spec, cancellation);
        return await GetSnapshotAsync(spec.Name, cancellation);
    }

    /// <summary>One look at a sweep; a read, so retried through a silo's failover like every poll of <see cref="WatchAsync"/>.</summary>
    public Task<SweepSnapshot> GetSnapshotAsync(string sweepName, CancellationToken cancellation = default) =>
        Retried(sweepName, sweep => sweep.GetSnapshot(), cancellation);

    public Task CancelAsync(string sweepName, CancellationToken cancellation = default) =>
        Retried(sweepName, async sweep => { await sweep.Cancel(); return true; }, cancellation);

    public Task PauseAsync(string sweepName, CancellationToken cancellation = default) =>
        Retried(sweepName, async sweep => { await sweep.Pause(); return true; }, cancellation);

    public Task<SweepSnapshot> ResumeAsync(string sweepName, CancellationToken cancellation = default) =>
        Retried(sweepName, sweep => sweep.Resume(), cancellation);

    private Task<T> Retried<T>(string sweepName, Func<ISweepGrain, Task<T>> call, CancellationToken cancellation)
    {
        var sweep = _grains.GetGrain<ISweepGrain>(sweepName);
        return Call(() => call(sweep), cancellation);
    }

    private async Task<T> Call<T>(Func<Task<T>> call, CancellationToken cancellation)
    {
        try
        {
            return await _calls.ExecuteAsync(async _ => await call(), cancellation);
        }
        catch (Exception e) when (SweepClientCalls.IsUnreachable(e) && !cancellation.IsCancellationRequested)
        {
            // The cluster stayed unreachable through the retries (every silo down, a partition): the user's to wait out.
            throw new ClusterUnavailableException(
                $"lost contact with the cluster ({e.GetType().Name}: {e.Message}); its state is kept: run the command again once its silos are back.");
        }
    }

    /// <summary>
    /// The sweep's TensorBoard event files beyond what the reader has (see <see cref="ISweepArtifactsGrain.ReadTensorBoard"/>),
    /// read by a silo from the artifact root; a read, retried like the others.
    /// </summary>
    public async Task<IReadOnlyList<ArtifactChunk>> ReadTensorBoardAsync(string sweepName, IReadOnlyDictionary<string, long> have, int maxBytes,
        CancellationToken cancellation = default)
    {
        var artifacts = _grains.GetGrain<ISweepArtifactsGrain>(sweepName);
        return await Call(() => artifacts.ReadTensorBoard(have, maxBytes), cancellation);
    }

    /// <summary>Every sweep started on the cluster, by name.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellation = default)
    {
        var registry = _grains.GetGrain<ISweepRegistryGrain>(0);
        return await Call(() => registry.List(), cancellation);
    }

    /// <summary>
    /// What changed since <paramref name="afterSequence"/> (see <see cref="ISweepGrain.GetChanges"/>); a read, retried
    /// like <see cref="GetSnapshotAsync"/>. <see cref="SweepMirror"/> keeps a copy current with it.
    /// </summary>
    public Task<SweepChanges> GetChangesAsync(string sweepName, long afterSequence, string? knownSpecFingerprint,
        int limit = int.MaxValue, CancellationToken cancellation = default) =>
        Retried(sweepName, sweep => sweep.GetChanges(afterSequence, knownSpecFingerprint, limit), cancellation);

    /// <summary>Brings <paramref name="mirror"/> up to date (every page of new results); returns the results added.</summary>
    public async Task<IReadOnlyList<RecordedResult>> CatchUpAsync(SweepMirror mirror, CancellationToken cancellation = default)
    {
        var added = new List<RecordedResult>();
        SweepChanges changes;
        do
        {
            changes = await GetChangesAsync(mirror.Name, mirror.LastSequence, mirror.SpecFingerprint, cancellation: cancellation);
            added.AddRange(mirror.Apply(changes));
        } while (changes.More);
        return added;
    }

    /// <summary>
    /// Snapshots every <paramref name="interval"/> until the sweep is completed or cancelled (the last one is the final
    /// state, with every result). A paused sweep keeps being watched until it is resumed or cancelled. Each poll
    /// transfers what changed since the last (<see cref="SweepMirror"/>), not the whole sweep.
    /// </summary>
    public async IAsyncEnumerable<SweepSnapshot> WatchAsync(string sweepName, TimeSpan interval,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var mirror = new SweepMirror(sweepName);
        await foreach (var _ in FollowAsync(mirror, interval, cancellation)) yield return mirror.ToSnapshot();
    }

    /// <summary>
    /// Keeps <paramref name="mirror"/> current every <paramref name="interval"/> until the sweep is completed or
    /// cancelled and every result is in it, yielding after each look the results it added (often none). The mirror
    /// may start seeded (a study that holds earlier results): only what came after them is fetched.
    /// </summary>
    public async IAsyncEnumerable<IReadOnlyList<RecordedResult>> FollowAsync(SweepMirror mirror, TimeSpan interval,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var pending = new List<RecordedResult>();
        while (true)
        {
            pending.AddRange(await CatchUpAsync(mirror, cancellation));
            bool done = mirror.State is SweepState.Completed or SweepState.Cancelled;
            if (done && !mirror.IsCaughtUp)
            {
                // Its last results are being written: fetch them before calling the sweep done.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(50, interval.TotalMilliseconds)), cancellation);
                continue;
            }
            yield return pending;
            pending = [];
            if (done) yield break;
            await Task.Delay(interval, cancellation);
        }
    }
}
