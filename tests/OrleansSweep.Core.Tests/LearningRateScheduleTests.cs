using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Tests;

public class LearningRateScheduleTests
{
    private static TrainingSpec Training(string schedule, bool warmup = false) => new() { Epochs = 1, Schedule = schedule, Warmup = warmup };

    [Theory]
    [InlineData("step", 0, 1.0)]
    [InlineData("step", 499, 1.0)]
    [InlineData("step", 500, 0.1)]
    [InlineData("step", 749, 0.1)]
    [InlineData("step", 750, 0.01)]
    [InlineData("constant", 999, 1.0)]
    [InlineData("cosine", 0, 1.0)]
    [InlineData("cosine", 500, 0.5)]
    [InlineData("cosine", 1000, 0.0)]
    public void Schedules(string schedule, long step, double factor) =>
        Assert.Equal(factor, LearningRateSchedule.Factor(Training(schedule), step, 1000), 12);

    [Fact]
    public void Goyal_warmup_rises_linearly_from_one_32nd_over_the_first_five_percent()
    {
        var t = Training("step", warmup: true);
        Assert.Equal(1.0 / 32, LearningRateSchedule.Factor(t, 0, 1000), 12);
        Assert.Equal(1.0 / 32 + (31.0 / 32) * 0.5, LearningRateSchedule.Factor(t, 25, 1000), 12);
        Assert.Equal(1.0, LearningRateSchedule.Factor(t, 50, 1000), 12);
        Assert.Equal(0.1, LearningRateSchedule.Factor(t, 600, 1000), 12);
    }

    [Theory]
    [InlineData("mnist")]
    [InlineData("cifar10")]
    public void Datasets_without_a_system_location_need_a_path(string dataset)
    {
        var error = Assert.Throws<SpecException>(() => SweepSpecLoader.Parse($$"""
            { "name": "p", "dataset": { "name": "{{dataset}}" }, "model": { "architecture": "alexnet-small" },
              "training": { "epochs": 1 }, "grid": { "batchSizes": [8], "baseLearningRates": [0.01] } }
            """));
        Assert.Contains($"dataset.path: required for {dataset}", error.Message);
    }
}
