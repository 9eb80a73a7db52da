using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Tests;

public class ResultsTests
{
    private static readonly SweepSpec Spec = SweepSpecLoader.Parse("""
        { "name": "r", "dataset": { "name": "fashion-mnist" }, "model": { "architecture": "resnet8" },
          "training": { "epochs": 1 },
          "grid": { "batchSizes": [16, 64], "baseLearningRates": ["2^-8", "2^-6"], "seeds": [0, 1, 2] } }
        """);

    private static TrialResult Completed(string id, double accuracy) => new()
    {
        TrialId = id, Status = TrialStatus.Completed, FinalTestAccuracy = accuracy, FinalTestLoss = 1 - accuracy,
        Epochs = [new EpochMetrics(1, 0.5, 1 - accuracy, accuracy, 2.0)],
    };

    [Theory]
    [InlineData(new[] { 3.0 }, 3.0)]
    [InlineData(new[] { 5.0, 1.0, 3.0 }, 3.0)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 2.0 }, 2.5)]
    public void Median(double[] values, double expected) => Assert.Equal(expected, Statistics.Median(values));

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

    [Fact]
    public void Grid_files_hold_one_row_per_cell_with_status_and_the_best_lr_per_batch()
    {
        var results = new Dictionary<string, TrialResult>
        {
            ["bs16-lr2^-8-none-s0"] = Completed("bs16-lr2^-8-none-s0", 0.80),
            ["bs16-lr2^-8-none-s1"] = new() { TrialId = "bs16-lr2^-8-none-s1", Status = TrialStatus.Diverged, DivergedAtEpoch = 1 },
            ["bs64-lr2^-6-none-s0"] = new() { TrialId = "bs64-lr2^-6-none-s0", Status = TrialStatus.Diverged, DivergedAtEpoch = 1 },
        };
        var grids = ResultGrid.Build(Spec, results);

        var lines = StudyFiles.GridsToCsv(grids).TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(string.Join(',', StudyFiles.GridCsvColumns), lines[0]);
        Assert.Equal(1 + 2 * 2, lines.Length);
        Assert.Equal("none,16,0.00390625,3,1,1,0,0,unstable,0.5,0.8,0.8,0.8,0.19999999999999996", lines[1]);
        Assert.Equal("none,64,0.015625,3,0,1,0,0,diverged,0,,,,", lines[4]);

        using var json = System.Text.Json.JsonDocument.Parse(StudyFiles.GridsToJson(grids));
        var best = json.RootElement[0].GetProperty("bestLearningRatePerBatch");
        Assert.Equal(0.00390625, best[0].GetProperty("baseLearningRate").GetDouble());
        Assert.False(best[1].TryGetProperty("baseLearningRate", out _)); // no seed converged at m = 64
    }

    [Fact]
    public void Study_files_hold_every_trial_and_no_temporary_files_remain()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"study-{Guid.NewGuid():N}");
        try
        {
            var trials = GridExpander.Expand(Spec);
            var results = new Dictionary<string, TrialResult> { ["bs16-lr2^-8-none-s0"] = Completed("bs16-lr2^-8-none-s0", 0.8125) };
            StudyFiles.Write(directory, new StudyResults(Spec, trials, results));

            var lines = File.ReadAllLines(Path.Combine(directory, StudyFiles.CsvFileName));
            Assert.Equal(string.Join(',', StudyFiles.CsvColumns), lines[0]);
            Assert.Equal(trials.Count + 1, lines.Length);
            Assert.StartsWith("bs16-lr2^-8-none-s0,none,16,0.00390625,0.0625,0,completed,0.8125,", lines[1]);
            Assert.Contains(",pending,", lines[2]);

            string json = File.ReadAllText(Path.Combine(directory, StudyFiles.JsonFileName));
            using var document = System.Text.Json.JsonDocument.Parse(json);
            Assert.Equal(trials.Count, document.RootElement.GetProperty("trials").GetArrayLength());
            Assert.Equal(0.8125, document.RootElement.GetProperty("trials")[0].GetProperty("result").GetProperty("finalTestAccuracy").GetDouble());
            Assert.Equal(SpecFingerprint.Compute(Spec),
                SpecFingerprint.Compute(SweepSpecLoader.LoadFile(Path.Combine(directory, StudyFiles.SpecFileName))));
            Assert.Empty(Directory.GetFiles(directory, "*.tmp"));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Fact]
    public void Csv_fields_with_commas_or_quotes_are_quoted()
    {
        var trials = GridExpander.Expand(Spec);
        var results = new Dictionary<string, TrialResult>
        {
            [trials[0].TrialId] = new() { TrialId = trials[0].TrialId, Status = TrialStatus.Failed, FailureReason = "bad \"file\", really" },
        };
        string csv = StudyFiles.ToCsv(new StudyResults(Spec, trials, results));
        Assert.Contains(",\"bad \"\"file\"\", really\"", csv);
    }
}
