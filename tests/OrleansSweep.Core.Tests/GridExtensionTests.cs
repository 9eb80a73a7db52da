using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Core.Tests;

/// <summary>
/// When a spec may grow a stored sweep: every axis keeps its stored values (any may be added), every other field is
/// unchanged. Written from the mutation report: no test dropped a value of the LR, BN or seed axes, or added a field.
/// </summary>
public class GridExtensionTests
{
    private static SweepSpec Spec(string grid, string extra = "") => SweepSpecLoader.Parse($$"""
        { "name": "g", "dataset": { "name": "fashion-mnist" }, "model": { "architecture": "resnet8" },
          "training": { "epochs": 1 }, {{extra}}
          "grid": {{grid}} }
        """);

    private static readonly SweepSpec Stored =
        Spec("""{ "batchSizes": [16, 64], "baseLearningRates": ["2^-8", "2^-6"], "bnModes": ["none", "ghost:8"], "seeds": [0, 1] }""");

    [Theory]
    [InlineData("""{ "batchSizes": [16], "baseLearningRates": ["2^-8", "2^-6"], "bnModes": ["none", "ghost:8"], "seeds": [0, 1] }""", "grid.batchSizes drops 64")]
    [InlineData("""{ "batchSizes": [16, 64], "baseLearningRates": ["2^-8"], "bnModes": ["none", "ghost:8"], "seeds": [0, 1] }""", "grid.baseLearningRates drops 2^-6")]
    [InlineData("""{ "batchSizes": [16, 64], "baseLearningRates": ["2^-8", "2^-6"], "bnModes": ["none"], "seeds": [0, 1] }""", "grid.bnModes drops ghost:8")]
    [InlineData("""{ "batchSizes": [16, 64], "baseLearningRates": ["2^-8", "2^-6"], "bnModes": ["none", "ghost:8"], "seeds": [1, 2] }""", "grid.seeds drops 0")]
    public void Dropping_a_stored_value_of_any_axis_is_named(string grid, string expected)
    {
        var candidate = Spec(grid);
        Assert.Equal([expected], GridExtension.Differences(Stored, candidate));
        Assert.False(GridExtension.Extends(Stored, candidate));
    }

    [Fact]
    public void Adding_values_extends_and_counts_the_new_cells()
    {
        var grown = Spec("""{ "batchSizes": [16, 64, 256], "baseLearningRates": ["2^-8", "2^-6"], "bnModes": ["none", "ghost:8"], "seeds": [0, 1, 2] }""");
        Assert.Empty(GridExtension.Differences(Stored, grown));
        Assert.True(GridExtension.Extends(Stored, grown));
        Assert.Equal(3 * 2 * 2 * 3 - 2 * 2 * 2 * 2, GridExtension.AddedCells(Stored, grown));
        Assert.False(GridExtension.Extends(Stored, Stored)); // the same spec is not a growth
    }

    [Fact]
    public void A_field_only_one_side_has_is_a_difference_in_either_direction()
    {
        var withFindings = Spec("""{ "batchSizes": [16, 64], "baseLearningRates": ["2^-8", "2^-6"], "bnModes": ["none", "ghost:8"], "seeds": [0, 1] }""",
            """ "findings": { "confidence": 0.95 }, """);
        Assert.Equal(["findings differs"], GridExtension.Differences(Stored, withFindings));
        Assert.Equal(["findings differs"], GridExtension.Differences(withFindings, Stored));
    }
}
