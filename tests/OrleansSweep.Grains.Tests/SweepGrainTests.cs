using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Tests;

public class SweepGrainTests(SweepClusterFixture fixture) : IClassFixture<SweepClusterFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private SweepSpec Spec(string name, string[]? lrs = null, string? dataDirectory = null, int epochs = 2, int[]? batches = null) =>
        SweepSpecLoader.Parse(SyntheticFashion.SpecJson(name, dataDirectory ?? fixture.DataDirectory, batchSizes: batches ?? [16],
            learningRates: lrs ?? ["2^-6"], epochs: epochs));

    private Task<SweepSnapshot> RunToEnd(SweepSpec spec) => fixture.Cluster.RunToEndAsync(spec, Limit);

    [Fact]
    public async Task Trains_a_real_model_inside_a_silo_and_the_loss_goes_down()
    {
        var final = await RunToEnd(Spec("train-in-silo", epochs: 3));

        Assert.Equal(SweepState.Completed, final.State);
        var result = Assert.Single(final.Results.Values);
        Assert.Equal(TrialStatus.Completed, result.Status);
        Assert.Equal(3, result.Epochs.Count);
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss * 0.8,
            $"train loss {result.Epochs[0].TrainLoss} -> {result.Epochs[^1].TrainLoss}");
        Assert.Equal("cpu", result.Device);
    }

    [Fact]
    public async Task Runs_every_cell_once_and_divergence_is_a_result()
    {
        var spec = Spec("grid", lrs: ["2^-8", "2^-6", "2^4"], batches: [16, 32], epochs: 1);
        var final = await RunToEnd(spec);

        Assert.Equal(SweepState.Completed, final.State);
        Assert.Equal(6, final.Results.Count);
        Assert.All(final.Statuses.Values, s => Assert.True(s.IsFinal()));
        Assert.Equal(TrialStatus.Diverged, final.Results["bs16-lr2^4-none-s0"].Status);
        Assert.Equal(TrialStatus.Diverged, final.Results["bs32-lr2^4-none-s0"].Status);
        Assert.Equal(4, final.Results.Values.Count(r => r.Status == TrialStatus.Completed));
    }

    [Fact]
    public async Task Starting_the_same_spec_again_is_idempotent_and_a_different_spec_is_refused()
    {
        var spec = Spec("idempotent", epochs: 1);
        var first = await RunToEnd(spec);
        var again = await fixture.Client.StartAsync(spec);
        Assert.Equal(first.Results.Keys, again.Results.Keys);
        Assert.Equal(first.Results.Values.Single().Seconds, again.Results.Values.Single().Seconds); // not rerun

        var different = spec with { Training = spec.Training with { Epochs = 2 } };
        var error = await Assert.ThrowsAsync<SpecRejectedException>(() => fixture.Client.StartAsync(different));
        Assert.Contains("already exists with a different spec", error.Message);
    }

    [Fact]
    public async Task A_result_reported_twice_is_recorded_once()
    {
        var spec = Spec("twice", epochs: 1);
        var final = await RunToEnd(spec);
        var recorded = final.Results.Values.Single();

        var sweep = fixture.Cluster.Client.GetGrain<ISweepGrain>(spec.Name);
        await sweep.ReportResult(recorded with { FinalTestAccuracy = 0.0, Seconds = -1 });
        var after = await sweep.GetSnapshot();
        Assert.Equal(recorded.Seconds, after.Results[recorded.TrialId].Seconds);
        Assert.Equal(recorded.FinalTestAccuracy, after.Results[recorded.TrialId].FinalTestAccuracy);
    }

    [Fact]
    public async Task Bad_data_fails_the_trial_fast_with_the_reason()
    {
        using var broken = new TemporaryDirectory();
        SyntheticFashion.Write(broken.Path, trainCount: 64, testCount: 10);
        File.WriteAllBytes(Path.Combine(broken.Path, "t10k-labels-idx1-ubyte.gz"), [1, 2, 3]);
        var final = await RunToEnd(Spec("bad-data", dataDirectory: broken.Path));

        var result = Assert.Single(final.Results.Values);
        Assert.Equal(TrialStatus.Failed, result.Status);
        Assert.Contains("t10k-labels-idx1-ubyte.gz", result.FailureReason);
        Assert.Contains("bad magic number", result.FailureReason);
    }

    [Fact]
    public async Task Cancel_stops_the_sweep()
    {
        var spec = Spec("cancel", lrs: ["2^-8", "2^-7", "2^-6", "2^-5"], epochs: 50);
        await fixture.Client.StartAsync(spec);
        await fixture.Client.CancelAsync(spec.Name);
        var last = await fixture.Client.WatchToEndAsync(spec.Name, Limit);
        Assert.Equal(SweepState.Cancelled, last.State);
        // Trials had started (the cancel stops them: running until they report, then "cancelled"); none ran its 50
        // epochs to a result, and the ones not started never start.
        Assert.Contains(last.Statuses.Values, s => s is TrialStatus.Running or TrialStatus.Cancelled);
        Assert.All(last.Statuses.Values, s => Assert.True(s is TrialStatus.Running or TrialStatus.Cancelled or TrialStatus.Pending, $"{s}"));
        Assert.All(last.Results.Values, r => Assert.Equal(TrialStatus.Cancelled, r.Status));
    }
}
