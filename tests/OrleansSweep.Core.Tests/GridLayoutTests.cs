using CsCheck;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Tests;

/// <summary>The grid without expanding it: index, id and trial agree with each other and with the nested-loop order.</summary>
public class GridLayoutTests
{
    private static readonly double[] LearningRates = [Math.Pow(2, -10), Math.Pow(2, -8), 0.03, 1e-3, 0.1, 2.5e-5, Math.Pow(2, -3)];
    private static readonly string[] BnModes = ["none", "batch", "ghost:4", "ghost:16", "ghost:32"];

    private static SweepSpec Spec(IReadOnlyList<int> batches, IReadOnlyList<double> lrs, IReadOnlyList<string> bn, IReadOnlyList<int> seeds) => new()
    {
        Name = "g",
        Dataset = new DatasetSpec { Name = "fashion-mnist" },
        Model = new ModelSpec { Architecture = "resnet20" },
        Training = new TrainingSpec { Epochs = 1 },
        Grid = new GridSpec { BatchSizes = batches, BaseLearningRates = lrs, BnModes = bn, Seeds = seeds },
    };

    /// <summary>Distinct values of an axis, in a random order (spec order matters).</summary>
    private static Gen<T[]> Axis<T>(Gen<T> values, int max) => values.Array[1, max].Select(a => a.Distinct().ToArray());

    private static readonly Gen<SweepSpec> Grids =
        from batches in Axis(Gen.Int[1, 4096], 6)
        from lrs in Axis(Gen.Int[0, LearningRates.Length - 1].Select(i => LearningRates[i]), 5)
        from bn in Axis(Gen.Int[0, BnModes.Length - 1].Select(i => BnModes[i]), 3)
        from seeds in Axis(Gen.Int[0, 10_000], 4)
        select Spec(batches, lrs, bn, seeds);

    [Fact]
    public void Index_id_and_trial_agree_with_the_nested_loop_order() => Grids.Sample(spec =>
    {
        var layout = new GridLayout(spec);
        var expected = new List<string>();
        foreach (string bn in spec.Grid.BnModes)
        foreach (int seed in spec.Grid.Seeds)
        foreach (int batch in spec.Grid.BatchSizes)
        foreach (double lr in spec.Grid.BaseLearningRates)
            expected.Add(GridExpander.TrialIdFor(batch, lr, BnMode.Parse(bn), seed));
        Assert.Equal(expected.Count, layout.Count);
        for (int i = 0; i < layout.Count; i++)
        {
            Assert.Equal(expected[i], layout.TrialIdAt(i));
            Assert.Equal(expected[i], layout.TrialAt(i).TrialId);
            Assert.True(layout.TryIndexOf(expected[i], out int back));
            Assert.Equal(i, back);
        }
    }, iter: 200);

    [Fact]
    public void A_grid_that_grows_keeps_every_old_cells_id() => Grids.Sample(spec =>
    {
        var grown = spec with { Grid = spec.Grid with
        {
            BatchSizes = [.. spec.Grid.BatchSizes, 5000], Seeds = [10_001, .. spec.Grid.Seeds],
        } };
        var old = new GridLayout(spec);
        var larger = new GridLayout(grown);
        for (int i = 0; i < old.Count; i++)
        {
            Assert.True(larger.TryIndexOf(old.TrialIdAt(i), out int there));
            Assert.Equal(old.TrialAt(i) with { }, larger.TrialAt(there) with { }, TrialComparer);
        }
    }, iter: 100);

    [Fact]
    public void Dispatch_order_is_a_permutation_that_keeps_seed_rounds_whole_and_puts_costlier_cells_first() => Grids.Sample(spec =>
    {
        var layout = new GridLayout(spec);
        var seen = new HashSet<int>();
        int perRound = spec.Grid.BatchSizes.Count * spec.Grid.BaseLearningRates.Count;
        TrialSpec? previous = null;
        for (int position = 0; position < layout.Count; position++)
        {
            int cell = layout.DispatchCell(position);
            Assert.True(seen.Add(cell));
            Assert.Equal(position, layout.DispatchPosition(cell));
            Assert.Equal(position / perRound, cell / perRound); // the same (BN mode, seed) round as in grid order
            var trial = layout.TrialAt(cell);
            if (previous is not null && position % perRound != 0)
            {
                // Within a round: batch sizes by falling cost per epoch (so by rising m), and each batch's LRs rising.
                Assert.True(DispatchCost.PerEpoch(previous.BatchSize) >= DispatchCost.PerEpoch(trial.BatchSize));
                if (previous.BatchSize == trial.BatchSize) Assert.True(previous.BaseLearningRate < trial.BaseLearningRate);
            }
            previous = trial;
        }
        Assert.Equal(layout.Count, seen.Count);
    }, iter: 200);

    [Fact]
    public void Small_batches_cost_more_per_epoch_by_the_step_overhead()
    {
        Assert.Equal(2.5, DispatchCost.PerEpoch(2));
        Assert.True(DispatchCost.PerEpoch(16) > DispatchCost.PerEpoch(256));
        Assert.Equal(1 + 3.0 / 128, DispatchCost.PerEpoch(128), 12);
    }

    [Theory]
    [InlineData("")]
    [InlineData("bs16")]
    [InlineData("bs16-lr2^-8-none")]
    [InlineData("bs16-lr2^-8-none-s9")]
    [InlineData("bs17-lr2^-8-none-s0")]
    [InlineData("interp-best16-best256")]
    [InlineData("bs16-lr2^-8-none-s0-")]
    public void Ids_that_are_not_cells_of_the_grid_are_not_found(string id)
    {
        var layout = new GridLayout(Spec([16, 256], [Math.Pow(2, -8)], ["none"], [0]));
        Assert.False(layout.TryIndexOf(id, out _));
        Assert.True(layout.TryIndexOf("bs256-lr2^-8-none-s0", out int index));
        Assert.Equal(1, index);
    }

    private static readonly IEqualityComparer<TrialSpec> TrialComparer = EqualityComparer<TrialSpec>.Create(
        (a, b) => a!.TrialId == b!.TrialId && a.BatchSize == b.BatchSize && a.BaseLearningRate.Equals(b.BaseLearningRate)
                  && a.BnMode == b.BnMode && a.Seed == b.Seed);
}
