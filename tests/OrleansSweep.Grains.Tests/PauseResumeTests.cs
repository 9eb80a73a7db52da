using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Tests;

public sealed class PauseResumeTests
{
    [Fact]
    public async Task Pause_stops_trials_at_a_step_and_resume_continues_them_from_checkpoints()
    {
        using var work = new TemporaryDirectory("orleans-sweep-pause");
        // 1,024 images at batch 16: 64 steps an epoch, so the pause lands inside an epoch.
        SyntheticFashion.Write(work.Combine("data"), trainCount: 1024, testCount: 20);
        await using var cluster = await TestClusters.StartAsync(artifactRoot: work.Combine("artifacts"));
        var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("pause", work.Combine("data"), batchSizes: [16],
            learningRates: ["2^-8", "2^-7"], epochs: 6));
        var client = new SweepClient(cluster.Client);
        await client.StartAsync(spec);
        await client.FirstEpochDoneAsync(spec.Name);

        await client.PauseAsync(spec.Name);
        Assert.Equal(SweepState.Paused, (await client.GetSnapshotAsync(spec.Name)).State);
        var deadline = DateTime.UtcNow.AddMinutes(1);
        SweepSnapshot paused;
        do { paused = await client.GetSnapshotAsync(spec.Name); await Task.Delay(50); }
        while (DateTime.UtcNow < deadline && paused.Statuses.Values.Any(s => s == TrialStatus.Running));
        Assert.Equal(SweepState.Paused, paused.State);
        Assert.DoesNotContain(TrialStatus.Running, paused.Statuses.Values);
        Assert.Empty(paused.Results); // stopped trials are pending again, not results

        await client.ResumeAsync(spec.Name);
        var final = await client.WatchToEndAsync(spec.Name);

        Assert.Equal(SweepState.Completed, final.State);
        Assert.All(final.Results.Values, r => Assert.Equal((TrialStatus.Completed, 6), (r.Status, r.Epochs.Count)));
        Assert.Contains(final.Results.Values, r => r.ResumedFromEpoch >= 1);
        // Stopped at a step: resumed from the step reached, past the last epoch boundary (for a trial paused at the very
        // end of an epoch the two coincide, but not for both: the pause lands inside one of 64 steps).
        Assert.Contains(final.Results.Values, r => r.ResumedFromStep > (r.ResumedFromEpoch ?? 0) * 64L);
        Assert.Contains("pause", await client.ListAsync());
    }
}
