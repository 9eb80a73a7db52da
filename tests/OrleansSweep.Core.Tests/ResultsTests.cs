using static OrleansSweep.TestSupport.SampleResults;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Tests;

public class ResultsTests
{
    [Theory]
    [InlineData(new[] { 3.0 }, 3.0)]
    [InlineData(new[] { 5.0, 1.0, 3.0 }, 3.0)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 2.0 }, 2.5)]
    public void Median(double[] values, double expected) => Assert.Equal(expected, Statistics.Median(values));

    [Fact]
    public void A_trials_status_and_failure_kind_are_written_as_names_and_read_from_names_or_old_numbers()
    {
        var failed = new TrialResult { TrialId = "t", Status = TrialStatus.Failed, FailureKind = FailureKind.Transient };
        string json = System.Text.Json.JsonSerializer.Serialize(failed, SweepSpecLoader.JsonOptions);
        Assert.Contains("\"status\": \"failed\"", json);
        Assert.Contains("\"failureKind\": \"transient\"", json);
        var back = System.Text.Json.JsonSerializer.Deserialize<TrialResult>(json, SweepSpecLoader.JsonOptions)!;
        Assert.Equal((TrialStatus.Failed, FailureKind.Transient), (back.Status, back.FailureKind!.Value));
        // What results.json held before statuses were names: 2 = completed, 0 = deterministic.
        var old = System.Text.Json.JsonSerializer.Deserialize<TrialResult>("""{ "trialId": "t", "status": 2, "failureKind": 0 }""", SweepSpecLoader.JsonOptions)!;
        Assert.Equal((TrialStatus.Completed, FailureKind.Deterministic), (old.Status, old.FailureKind!.Value));
    }

    [Fact]
    public void Final_accuracy_is_the_median_of_the_last_five_epochs()
    {
        var epochs = new[] { 0.1, 0.9, 0.5, 0.6, 0.7, 0.2, 0.65 }.Select((a, i) => new EpochMetrics(i + 1, 0, 0, a, 0)).ToList();
        Assert.Equal(0.6, Statistics.FinalAccuracy(epochs)); // median of 0.5, 0.6, 0.7, 0.2, 0.65
        Assert.Equal(0.5, Statistics.FinalAccuracy(epochs.Take(3).ToList())); // fewer than five: all of them
    }

    [Fact]
    public void Grid_aggregates_seeds_and_shows_divergence()
    {
        var trials = GridExpander.Expand(Spec);
        var results = new Dictionary<string, TrialResult>
        {
            ["bs16-lr2^-8-none-s0"] = Completed("bs16-lr2^-8-none-s0", 0.80),
            ["bs16-lr2^-8-none-s1"] = Completed("bs16-lr2^-8-none-s1", 0.70),
            ["bs16-lr2^-8-none-s2"] = Completed("bs16-lr2^-8-none-s2", 0.90),
            ["bs64-lr2^-6-none-s0"] = new() { TrialId = "bs64-lr2^-6-none-s0", Status = TrialStatus.Diverged, DivergedAtEpoch = 1 },
            ["bs64-lr2^-6-none-s1"] = Completed("bs64-lr2^-6-none-s1", 0.40),
        };
        Assert.All(results.Keys, id => Assert.Contains(trials, t => t.TrialId == id));

        var grid = ResultGrid.Build(Spec, results).Single();
        var cell = grid[0, 0];
        Assert.Equal((0.80, 0.70, 0.90, 3, true), (cell.MedianAccuracy!.Value, cell.MinAccuracy!.Value, cell.MaxAccuracy!.Value, cell.Completed, cell.IsFinished));
        var mixed = grid[1, 1];
        Assert.Equal((1, 1, false, 0.40), (mixed.Diverged, mixed.Completed, mixed.IsFinished, mixed.MedianAccuracy!.Value));
        Assert.Null(grid[0, 1].MedianAccuracy);

        var best = grid.BestLearningRatePerBatch();
        Assert.Equal((16, Math.Pow(2, -8), 0.80), (best[0].BatchSize, best[0].BestBaseLearningRate!.Value, best[0].Accuracy!.Value));
        Assert.Equal((64, Math.Pow(2, -6)), (best[1].BatchSize, best[1].BestBaseLearningRate!.Value));
    }
}
