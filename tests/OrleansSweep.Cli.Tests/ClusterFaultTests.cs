using OrleansSweep.Cli;
using OrleansSweep.Core.Results;
using OrleansSweep.Hosting;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// Faults a real cluster suffers, injected into real silo processes on loopback: `kill -9` of one silo while it
/// trains, and of every process of the cluster. Nothing may be lost or recorded twice, lost work is bounded by the
/// checkpoints, and a restarted cluster's grid is bit-identical to an uninterrupted one (CPU, same seeds and threads).
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class ClusterFaultTests : IAsyncLifetime
{
    private readonly TemporaryDirectory _work = new("orleans-sweep-faults");
    private readonly string _clusterId = $"fault-test-{Guid.NewGuid():N}";
    private readonly StringWriter _output = new();
    private SiloProcesses _silos;

    public ClusterFaultTests() => _silos = NewSilos();

    private SiloProcesses NewSilos(string? redis = null) => new(_clusterId, _work.Combine("artifacts"), _work.Path, redis: redis);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _silos.DisposeAsync();
        _work.Dispose();
    }

    /// <summary>A coordinator and device silos with one slot each; a short lease so a lost trial is re-dispatched quickly.</summary>
    private async Task StartClusterAsync(int deviceSilos)
    {
        _silos.Start(LoopbackPorts.Free(), "--coordinator-only", "--lease-seconds", "6");
        for (int i = 0; i < deviceSilos; i++)
            _silos.Start(LoopbackPorts.Free(), "--device", "cpu", "--slots", "1", "--threads", "1", "--lease-seconds", "6");
        foreach (var silo in _silos.All) await _silos.JoinedAsync(silo);
    }

    private async Task<int> Cli(params string[] args)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        return await CliApp.InvokeAsync(args, TestConsole.Create(_output), limit.Token);
    }

    /// <summary>
    /// Four trials of 4 epochs (64 / 32 steps an epoch at batch 16 / 32): long enough to be interrupted part-way.
    /// <paramref name="images"/> 4096: four times longer, so a killed silo is certainly still training.
    /// </summary>
    private string WriteSpec(string name, int images = 1024)
    {
        string data = _work.Combine($"data-{images}");
        if (!Directory.Exists(data)) SyntheticFashion.Write(data, trainCount: images, testCount: 40);
        string spec = _work.Combine($"{name}.json");
        File.WriteAllText(spec, SyntheticFashion.SpecJson(name, data, batchSizes: [16, 32], learningRates: ["2^-8", "2^-7"], epochs: 4));
        return spec;
    }

    private async Task<SweepSnapshotView> SnapshotAsync(string sweep)
    {
        await using var cluster = await ClusterConnection.ConnectAsync(new ClusterConnection.Settings(_silos.ClusterRedis, _clusterId, _clusterId), CancellationToken.None);
        var snapshot = await cluster.Client.GetSnapshotAsync(sweep);
        return new SweepSnapshotView(snapshot.Running.ToDictionary(r => r.TrialId, r => r.EpochsDone), snapshot.Results, snapshot.Statuses.Count,
            snapshot.TransientFailures, snapshot.DuplicateReports);
    }

    private sealed record SweepSnapshotView(IReadOnlyDictionary<string, int> Running, IReadOnlyDictionary<string, TrialResult> Results, int Trials,
        IReadOnlyDictionary<string, int> TransientFailures, IReadOnlyDictionary<string, int> DuplicateReports);

    /// <summary>Waits until <paramref name="condition"/> holds for the sweep's running trials (epochs done per trial).</summary>
    private async Task<IReadOnlyDictionary<string, int>> WaitForRunningAsync(string sweep, Func<IReadOnlyDictionary<string, int>, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var running = (await SnapshotAsync(sweep)).Running;
            if (condition(running)) return running;
            Assert.True(DateTime.UtcNow < deadline, "the sweep did not reach the state to interrupt in 120 s");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Kill_9_of_a_training_silo_loses_at_most_the_epoch_in_progress_and_records_every_cell_once()
    {
        await StartClusterAsync(deviceSilos: 2);
        Assert.Equal(ExitCodes.Ok, await Cli(["submit", WriteSpec("kill9", images: 4096), .. _silos.Cluster]));
        // Both device silos training, at least one past its first epoch (so a checkpoint exists to resume from).
        var atKill = await WaitForRunningAsync("kill9", r => r.Count == 2 && r.Values.Any(e => e >= 1));
        var victim = _silos.All[1];
        victim.Kill(); // SIGKILL: no graceful stop, no last checkpoint

        int watched = await Cli(["watch", "kill9", .. _silos.Cluster]);
        Assert.True(watched == ExitCodes.Ok, $"watch exited {watched}: {_output}");
        var final = await SnapshotAsync("kill9");
        Assert.Equal(4, final.Results.Count); // every cell exactly once (the results map is keyed by trial)
        Assert.All(final.Results.Values, r => Assert.Equal(TrialStatus.Completed, r.Status));
        Assert.All(final.Results.Values, r => Assert.Equal(4, r.Epochs.Count));
        // The killed silo's trial finished elsewhere from its last epoch checkpoint: the epochs it had done were kept,
        // so the work done twice is at most the epoch that was in progress.
        var resumed = final.Results.Values.Where(r => r.ResumedFromEpoch is not null).ToList();
        Assert.NotEmpty(resumed);
        Assert.All(resumed, r =>
        {
            Assert.DoesNotContain(_silos.PortOf(victim), r.Silo);
            Assert.True(r.ResumedFromEpoch >= atKill.GetValueOrDefault(r.TrialId),
                $"{r.TrialId}: {atKill.GetValueOrDefault(r.TrialId)} epochs done at the kill, resumed after epoch {r.ResumedFromEpoch}");
        });
    }

    [Fact]
    public async Task Every_process_killed_then_restarted_gives_a_grid_bit_identical_to_an_uninterrupted_run()
    {
        await StartClusterAsync(deviceSilos: 1);
        Assert.Equal(ExitCodes.Ok, await Cli(["submit", WriteSpec("straight"), .. _silos.Cluster]));
        Assert.Equal(ExitCodes.Ok, await Cli(["watch", "straight", .. _silos.Cluster]));
        var straight = (await SnapshotAsync("straight")).Results;

        // The same grid under another name, killed (every process, SIGKILL) part-way, then a new cluster process set.
        string interrupted = WriteSpec("interrupted");
        Assert.Equal(ExitCodes.Ok, await Cli(["submit", interrupted, .. _silos.Cluster]));
        await WaitForRunningAsync("interrupted", r => r.Values.Any(e => e >= 1));
        foreach (var silo in _silos.All) silo.Kill();
        await _silos.DisposeAsync();
        _silos = NewSilos();
        await StartClusterAsync(deviceSilos: 1);

        Assert.Equal(ExitCodes.Ok, await Cli(["submit", interrupted, .. _silos.Cluster])); // idempotent: wakes the sweep
        Assert.Equal(ExitCodes.Ok, await Cli(["watch", "interrupted", .. _silos.Cluster]));
        var restarted = (await SnapshotAsync("interrupted")).Results;

        Assert.Equal(straight.Keys.Order(), restarted.Keys.Order());
        Assert.Contains(restarted.Values, r => r.ResumedFromEpoch is not null); // it really was interrupted and resumed
        foreach (var (id, expected) in straight)
            Assert.Equal(expected.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)),
                restarted[id].Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)));
    }

    /// <summary>A Redis of this test's own (loopback, free port), with every write in its append-only file.</summary>
    private System.Diagnostics.Process StartRedis(int port, string directory)
    {
        Directory.CreateDirectory(directory);
        var start = new System.Diagnostics.ProcessStartInfo("redis-server",
            $"--bind 127.0.0.1 --port {port} --dir {directory} --appendonly yes --appendfsync always --save \"\"")
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var redis = System.Diagnostics.Process.Start(start)!;
        redis.OutputDataReceived += (_, _) => { };
        redis.BeginOutputReadLine();
        redis.BeginErrorReadLine();
        return redis;
    }

    private static async Task WaitForRedisAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline) { await Task.Delay(100); }
        }
    }

    [Fact]
    public async Task Redis_down_for_10_seconds_mid_sweep_loses_nothing_and_the_trials_keep_training()
    {
        int port = LoopbackPorts.Free();
        string data = _work.Combine("redis");
        var redis = StartRedis(port, data);
        try
        {
            await WaitForRedisAsync(port);
            await _silos.DisposeAsync();
            _silos = NewSilos($"127.0.0.1:{port}");
            await StartClusterAsync(deviceSilos: 1);
            Assert.Equal(ExitCodes.Ok, await Cli(["submit", WriteSpec("outage"), .. _silos.Cluster]));
            // The store goes down during a trial's last epoch (one slot: trials run one at a time), so that trial
            // reports its result while the store is away: the sweep's write of it waits out the client's 5 s timeout
            // and fails, and the trial's report is retried until the store is back.
            var atCrash = await WaitForRunningAsync("outage", r => r.Values.Any(e => e >= 3));
            string endsInOutage = atCrash.First(r => r.Value >= 3).Key;

            // The store crashes (SIGKILL) and is back 10 s later with what it had written.
            redis.Kill();
            await redis.WaitForExitAsync();
            await Task.Delay(TimeSpan.FromSeconds(10));
            redis.Dispose();
            redis = StartRedis(port, data);
            await WaitForRedisAsync(port);

            int watched = await Cli(["watch", "outage", .. _silos.Cluster]);
            Assert.True(watched == ExitCodes.Ok, $"watch exited {watched}: {_output}");
            var final = await SnapshotAsync("outage");
            Assert.Equal(4, final.Results.Count);
            Assert.All(final.Results.Values, r =>
            {
                Assert.Equal(TrialStatus.Completed, r.Status);
                Assert.Equal(4, r.Epochs.Count);
                Assert.Null(r.ResumedFromEpoch); // trained straight through the outage: none was lost and restarted
                Assert.Equal(1, r.Attempts);      // and none was run again
            });
            Assert.Empty(final.TransientFailures);
            // The failed write was retried: the trial that ended in the outage reported again (its first report's write
            // had failed), the repeat was refused as a duplicate once the first was durable, and counted. Recorded
            // once all the same (the results above).
            Assert.True(final.DuplicateReports.GetValueOrDefault(endsInOutage) >= 1,
                $"{endsInOutage} ended during the outage but its report was never retried; refused repeats: "
                + string.Join(", ", final.DuplicateReports.Select(d => $"{d.Key}: {d.Value}")));
            Assert.All(_silos.All, silo => Assert.False(silo.HasExited, _silos.Output(silo)));
        }
        finally
        {
            if (!redis.HasExited) redis.Kill();
            redis.Dispose();
        }
    }
}
