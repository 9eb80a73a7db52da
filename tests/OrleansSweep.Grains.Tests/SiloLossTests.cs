using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Tests;

public sealed class SiloLossTests
{
    [Fact]
    public async Task A_device_silo_joining_mid_sweep_receives_trials()
    {
        using var work = new TemporaryDirectory("orleans-sweep-join");
        SyntheticFashion.Write(work.Combine("data"), trainCount: 512, testCount: 20);
        await using var cluster = await TestClusters.StartAsync(silos: 2, coordinatorHasDevices: false, slotsPerDevice: 1);
        var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("join", work.Combine("data"), batchSizes: [16, 32],
            learningRates: ["2^-8", "2^-7", "2^-6"], epochs: 2));
        var client = new SweepClient(cluster.Client);
        await client.StartAsync(spec);
        Assert.Single((await client.GetSnapshotAsync(spec.Name)).Statuses.Values, s => s == TrialStatus.Running); // one slot so far

        var joined = await cluster.StartAdditionalSiloAsync();
        // Its slot adds to the cluster's: two trials train at once from then on. (Placement alone could send it trials
        // one at a time.)
        int mostRunning = 0;
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (mostRunning < 2 && DateTime.UtcNow < deadline)
        {
            var snapshot = await client.GetSnapshotAsync(spec.Name);
            mostRunning = Math.Max(mostRunning, snapshot.Statuses.Values.Count(s => s == TrialStatus.Running));
            if (snapshot.State != SweepState.Running) break;
            await Task.Delay(50);
        }
        Assert.True(mostRunning == 2, "after the join, never two trials running at once: the joined silo's slot was not added");
        var final = await client.WatchToEndAsync(spec.Name);

        Assert.Equal(SweepState.Completed, final.State);
        Assert.Equal(6, final.Results.Count);
        Assert.Contains(final.Results.Values, r => r.Silo == joined.SiloAddress.Endpoint.ToString());
    }

    [Fact]
    public async Task Killing_a_device_silo_mid_sweep_still_completes_every_cell_once()
    {
        using var work = new TemporaryDirectory("orleans-sweep-kill");
        SyntheticFashion.Write(work.Combine("data"), trainCount: 192, testCount: 20);
        await using var cluster = await TestClusters.StartAsync(silos: 3, coordinatorHasDevices: false,
            stateFile: work.Combine("state.db"), artifactRoot: work.Combine("artifacts"), slotsPerDevice: 1,
            leaseDuration: TimeSpan.FromSeconds(2));
        var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("kill", work.Combine("data"), batchSizes: [16, 32],
            learningRates: ["2^-8", "2^-7"], epochs: 12));
        var client = new SweepClient(cluster.Client);
        await client.StartAsync(spec);

        // Wait until a trial has finished an epoch, then kill the silo it trains on.
        var progressed = await client.FirstEpochDoneAsync(spec.Name);
        var trialGrain = cluster.Client.GetGrain<ITrialGrain>(ITrialGrain.KeyFor(spec.Name, progressed.TrialId)).GetGrainId();
        Assert.True(cluster.TryGetGrainContext(trialGrain, out var context));
        var victim = cluster.Silos.Single(s => s.SiloAddress.Equals(context!.Address.SiloAddress));
        string victimAddress = victim.SiloAddress.Endpoint.ToString();
        await cluster.KillSiloAsync(victim);

        var final = await client.WatchToEndAsync(spec.Name, TimeSpan.FromMinutes(3));

        Assert.Equal(SweepState.Completed, final.State);
        Assert.Equal(4, final.Results.Count);
        Assert.All(final.Results.Values, r => Assert.Equal(TrialStatus.Completed, r.Status));
        Assert.All(final.Results.Values, r => Assert.Equal(12, r.Epochs.Count));
        // The trial that had finished an epoch on the killed silo was taken over by the survivor from its checkpoint
        // (written before the epoch's progress was reported), not from scratch. (A second attempt when its lease expired;
        // still the first when the sweep grain died with that silo and restarted its running trials on reactivation.)
        var victimTrial = final.Results[progressed.TrialId];
        Assert.True(victimTrial.ResumedFromEpoch >= 1, $"resumed from epoch {victimTrial.ResumedFromEpoch} (attempts {victimTrial.Attempts})");
        Assert.NotEqual(victimAddress, victimTrial.Silo);
        // Exactly once, as the log holds it: one record per cell; a refused second report can only come from a retried trial.
        var log = await client.GetChangesAsync(spec.Name, 0, null, limit: 100);
        Assert.Equal(final.Results.Keys.Order(), log.Results.Select(r => r.Result.TrialId).Order());
        Assert.All(log.DuplicateReports.Keys, t => Assert.True(final.TransientFailures.ContainsKey(t), $"{t} reported twice without a retry"));
    }
}
