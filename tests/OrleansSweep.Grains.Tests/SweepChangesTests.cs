using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Serialization;
using Orleans.TestingHost;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Sweeps;
using OrleansSweep.Core.Trials;
using OrleansSweep.Grains.Trials;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Grains.Tests;

/// <summary>Test double: finishes every trial at once with an accuracy computed from its cell (no training).</summary>
public sealed class InstantExecutorDouble : ITrialExecutor
{
    public TrialResult Execute(TrialSpec trial, string device, int threads, IProgress<EpochMetrics> progress, CancellationToken cancellation) => new()
    {
        TrialId = trial.TrialId, Status = TrialStatus.Completed, FinalTestAccuracy = 0.5 + trial.Seed / 1000.0, FinalTestLoss = 0.5,
        Epochs = [new EpochMetrics(1, 0.5, 0.5, 0.5, 0)], Device = device,
    };
}

/// <summary>Watching by changes: a poll returns what is new since the reader's sequence, and a mirror of them equals the snapshot.</summary>
public sealed class SweepChangesTests : IAsyncLifetime
{
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync() =>
        _cluster = await TestClusters.StartAsync(slotsPerDevice: 4, services: s => s.Replace(ServiceDescriptor.Singleton<ITrialExecutor, InstantExecutorDouble>()));

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }

    private static SweepSpec Spec(params int[] seeds) => SweepSpecLoader.Parse(SyntheticFashion.SpecJson("changes", "/tmp", batchSizes: [16, 32],
        learningRates: ["2^-8", "2^-7", "2^-6"], epochs: 1, seeds: seeds));

    [Fact]
    public async Task A_second_report_of_a_finished_trial_is_refused_and_counted_and_the_log_holds_each_trial_once()
    {
        var client = new SweepClient(_cluster.Client);
        var spec = Spec(7) with { Name = "exactly-once" };
        await client.StartAsync(spec);
        var final = await client.WatchToEndAsync(spec.Name);
        Assert.Equal(6, final.Results.Count);
        Assert.Empty(final.DuplicateReports);

        // A second run of a cell finishing (a lease that expired on a live silo, say) reports again, with other numbers.
        var first = final.Results.Values.First();
        var sweep = _cluster.Client.GetGrain<ISweepGrain>(spec.Name);
        await sweep.ReportResult(first with { FinalTestAccuracy = 0.01, Silo = "elsewhere" });
        await sweep.ReportResult(first with { FinalTestAccuracy = 0.02, Silo = "elsewhere" });

        var after = await client.GetSnapshotAsync(spec.Name);
        Assert.Equal(new Dictionary<string, int> { [first.TrialId] = 2 }, after.DuplicateReports);
        Assert.Equal(first.FinalTestAccuracy, after.Results[first.TrialId].FinalTestAccuracy);
        // The append-only log itself: one record per cell, in sequence, none for the refused reports.
        var log = await client.GetChangesAsync(spec.Name, 0, null, limit: 100);
        Assert.Equal(GridExpander.Expand(spec).Select(t => t.TrialId).Order(), log.Results.Select(r => r.Result.TrialId).Order());
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), log.Results.Select(r => r.Sequence));
        Assert.Equal(after.DuplicateReports, log.DuplicateReports);
    }

    [Fact]
    public async Task A_poll_returns_only_what_is_new_and_the_mirror_equals_the_snapshot_also_after_the_grid_grows()
    {
        var client = new SweepClient(_cluster.Client);
        var spec = Spec(0, 1);
        await client.StartAsync(spec);
        var watched = await client.WatchToEndAsync(spec.Name);
        Assert.Equal(12, watched.Results.Count);

        var mirror = new SweepMirror(spec.Name);
        Assert.Equal(12, (await client.CatchUpAsync(mirror)).Count);
        Assert.True(mirror.IsCaughtUp);
        var snapshot = await client.GetSnapshotAsync(spec.Name);
        Assert.Equal(snapshot.Statuses, mirror.ToSnapshot().Statuses);
        Assert.Equal(snapshot.Results.Keys.Order(), mirror.ToSnapshot().Results.Keys.Order());

        // Nothing new: no results, no spec, and a few hundred bytes whatever the sweep's size.
        var nothing = await client.GetChangesAsync(spec.Name, mirror.LastSequence, mirror.SpecFingerprint);
        Assert.Empty(nothing.Results);
        Assert.Null(nothing.Spec);
        var serializer = _cluster.Client.ServiceProvider.GetRequiredService<Serializer>();
        Assert.InRange(serializer.SerializeToArray(nothing).Length, 1, 1024);

        // A page at a time from any sequence.
        var page = await client.GetChangesAsync(spec.Name, 3, mirror.SpecFingerprint, limit: 4);
        Assert.Equal([4L, 5, 6, 7], page.Results.Select(r => r.Sequence));
        Assert.True(page.More);

        // The grid grows by a seed: the old results stay as they were, only the new cells run, the mirror follows.
        var grown = Spec(0, 1, 2);
        var extended = await client.StartAsync(grown);
        var final = await client.WatchToEndAsync(grown.Name);
        Assert.Equal(18, final.Results.Count);
        string Json(TrialResult r) => System.Text.Json.JsonSerializer.Serialize(r, SweepSpecLoader.JsonOptions);
        Assert.All(snapshot.Results, r => Assert.Equal(Json(r.Value), Json(final.Results[r.Key]))); // byte-identical
        var added = await client.CatchUpAsync(mirror);
        Assert.Equal(6, added.Count);
        Assert.All(added, r => Assert.EndsWith("-s2", r.Result.TrialId));
        Assert.Equal(final.Statuses, mirror.ToSnapshot().Statuses);
        Assert.Equal(SpecFingerprint.Compute(grown), SpecFingerprint.Compute(mirror.Spec!));
    }
}

/// <summary>Test double: each trial takes 150 ms and the most trials seen training at once is recorded.</summary>
public sealed class ConcurrencyProbeExecutorDouble : ITrialExecutor
{
    private int _now;
    public int Most;

    public TrialResult Execute(TrialSpec trial, string device, int threads, IProgress<EpochMetrics> progress, CancellationToken cancellation)
    {
        int now = Interlocked.Increment(ref _now);
        for (int most = Volatile.Read(ref Most); now > most && Interlocked.CompareExchange(ref Most, now, most) != most; most = Volatile.Read(ref Most)) { }
        Thread.Sleep(150);
        Interlocked.Decrement(ref _now);
        return new InstantExecutorDouble().Execute(trial, device, threads, progress, cancellation);
    }
}

/// <summary>How many trials a sweep runs at once: exactly its limit (the cluster's device slots here), never more.</summary>
public sealed class ConcurrencyLimitTests
{
    [Fact]
    public async Task A_sweep_keeps_every_device_slot_busy_and_never_runs_more_trials_than_slots()
    {
        var probe = new ConcurrencyProbeExecutorDouble();
        var cluster = await TestClusters.StartAsync(slotsPerDevice: 3, services: s => s.Replace(ServiceDescriptor.Singleton<ITrialExecutor>(probe)));
        try
        {
            var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("concurrency", "/tmp", batchSizes: [16, 32],
                learningRates: ["2^-8", "2^-7", "2^-6"], epochs: 1, seeds: [0, 1]));
            var final = await cluster.RunToEndAsync(spec);
            Assert.Equal(12, final.Results.Count);
            Assert.Equal(3, probe.Most); // one silo, 3 slots: 12 trials of 150 ms reach the bound and never pass it
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
