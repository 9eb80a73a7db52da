using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.TestSupport;

/// <summary>A small 2 x 2 x 3-seed sweep spec and hand-made results, for aggregation and export tests.</summary>
public static class SampleResults
{
    public static readonly SweepSpec Spec = SweepSpecLoader.Parse("""
        { "name": "r", "dataset": { "name": "fashion-mnist" }, "model": { "architecture": "resnet8" },
          "training": { "epochs": 1 },
          "grid": { "batchSizes": [16, 64], "baseLearningRates": ["2^-8", "2^-6"], "seeds": [0, 1, 2] } }
        """);

    public static TrialResult Completed(string id, double accuracy) => new()
    {
        TrialId = id, Status = TrialStatus.Completed, FinalTestAccuracy = accuracy, FinalTestLoss = 1 - accuracy,
        Epochs = [new EpochMetrics(1, 0.5, 1 - accuracy, accuracy, 2.0)],
    };
}
