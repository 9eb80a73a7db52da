using OrleansSweep.Core.Results;

namespace OrleansSweep.Core.Tests;

public class AccuracyFormatTests
{
    [Theory]
    [InlineData(0.7535, "75.4")]  // 1,507 of 2,000: 100 x 0.7535 is 75.3499999... as a double; "F1" printed 75.3
    [InlineData(0.6285, "62.9")]
    [InlineData(0.8125, "81.3")]
    [InlineData(0.812, "81.2")]
    [InlineData(1.0, "100.0")]
    [InlineData(0.0, "0.0")]
    public void An_accuracy_prints_as_its_exact_count_would_round(double fraction, string expected) =>
        Assert.Equal(expected, AccuracyFormat.Percent(fraction));
}
