using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Tests;

public class AnalysisStageTests
{
    [Fact]
    public async Task Trials_carry_their_analysis_and_the_sweep_runs_its_interpolations_after_the_grid()
    {
        using var data = new TemporaryDirectory();
        using var artifacts = new TemporaryDirectory();
        SyntheticFashion.Write(data.Path, trainCount: 256, testCount: 64);
        string json = SyntheticFashion.SpecJson("landscape", data.Path, [16, 64], ["2^-6", "2^4"], epochs: 1).TrimEnd().TrimEnd('}') + """
            , "analysis": {
                "evaluationSubset": 64,
                "sharpness": { "epsilons": [1e-3], "spaces": ["full"], "iterations": 2 },
                "hessian": { "maxIterations": 3 },
                "interpolations": [
                  { "name": "sb-lb", "small": { "batchSize": 16 }, "large": { "batchSize": 64 }, "points": 5 },
                  { "name": "to-diverged", "small": { "batchSize": 16 }, "large": { "batchSize": 64, "baseLearningRate": "2^4" } } ] } }
            """;
        var spec = SweepSpecLoader.Parse(json);
        var cluster = await TestClusters.StartAsync(silos: 2, artifactRoot: artifacts.Path);
        try
        {
            var final = await cluster.RunToEndAsync(spec, TimeSpan.FromMinutes(3));

            Assert.Equal(SweepState.Completed, final.State);
            Assert.Equal(4 + 2, final.TotalTrials);
            var trained = final.Results["bs16-lr2^-6-none-s0"];
            Assert.Equal(TrialStatus.Completed, trained.Status);
            Assert.Equal("full@0.001", Assert.Single(trained.Analysis!.Sharpness).Key);
            Assert.NotNull(trained.Analysis.Hessian);
            Assert.Null(final.Results["bs16-lr2^4-none-s0"].Analysis); // diverged: nothing to analyse

            var line = final.Results["interpolation-sb-lb"];
            Assert.Equal(TrialStatus.Completed, line.Status);
            Assert.Equal(("bs16-lr2^-6-none-s0", "bs64-lr2^-6-none-s0"), (line.Interpolation!.SmallTrialId, line.Interpolation.LargeTrialId));
            Assert.Equal(5, line.Interpolation.Points.Count);

            var broken = final.Results["interpolation-to-diverged"];
            Assert.Equal((TrialStatus.Failed, FailureKind.Deterministic), (broken.Status, broken.FailureKind));
            Assert.Contains("bs64-lr2^4-none-s0 ended diverged", broken.FailureReason);

            var cell = ResultGrid.Build(spec, final.Results).Single()[0, 0];
            Assert.True(cell.MedianSharpness!.ContainsKey("full@0.001"));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
