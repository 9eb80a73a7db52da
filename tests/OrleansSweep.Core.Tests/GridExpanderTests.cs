using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Tests;

public class GridExpanderTests
{
    private static SweepSpec Spec(string grid = """{ "batchSizes": [8, 32, 128], "baseLearningRates": ["2^-10", "2^-6", 0.03], "bnModes": ["none", "batch", "ghost:4"], "seeds": [0, 7] }""") =>
        SweepSpecLoader.Parse($$"""
            { "name": "g", "dataset": { "name": "fashion-mnist" }, "model": { "architecture": "resnet20" },
              "training": { "epochs": 1 }, "grid": {{grid}} }
            """);

    [Fact]
    public void Every_cell_exactly_once_with_unique_ids()
    {
        var trials = GridExpander.Expand(Spec());
        Assert.Equal(3 * 3 * 3 * 2, trials.Count);
        Assert.Equal(trials.Count, trials.Select(t => t.TrialId).Distinct().Count());
        Assert.Equal(trials.Count, trials.Select(t => (t.BatchSize, t.BaseLearningRate, t.BnMode, t.Seed)).Distinct().Count());
    }

    [Fact]
    public void Same_spec_gives_the_same_trials_in_the_same_order()
    {
        var first = GridExpander.Expand(Spec()).Select(t => t.TrialId);
        var second = GridExpander.Expand(Spec()).Select(t => t.TrialId);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Ids_depend_on_the_cell_only_not_on_the_other_axes()
    {
        var small = GridExpander.Expand(Spec("""{ "batchSizes": [32], "baseLearningRates": ["2^-6"], "bnModes": ["batch"], "seeds": [7] }"""));
        Assert.Contains(GridExpander.Expand(Spec()), t => t.TrialId == small.Single().TrialId);
    }

    [Fact]
    public void Ids_are_readable_and_safe_as_file_names()
    {
        var ids = GridExpander.Expand(Spec()).Select(t => t.TrialId).ToList();
        Assert.Contains("bs8-lr2^-10-none-s0", ids);
        Assert.Contains("bs128-lr0.03-ghost4-s7", ids);
        Assert.All(ids, id => Assert.True(id.IndexOfAny(['/', ':', ' ', '\\']) < 0, id));
    }

    [Fact]
    public void Learning_rate_is_batch_times_base_learning_rate()
    {
        var trial = GridExpander.Expand(Spec()).First(t => t.BatchSize == 128 && t.BaseLearningRate == Math.Pow(2, -10));
        Assert.Equal(0.125, trial.LearningRate);
    }

    [Fact]
    public void Without_scaling_every_batch_size_trains_at_the_grids_learning_rate()
    {
        var spec = Spec();
        var trials = GridExpander.Expand(spec with { Training = spec.Training with { LearningRateScaling = "none" } });
        Assert.All(trials, t => Assert.Equal(t.BaseLearningRate, t.LearningRate));
        Assert.NotEqual(TrialFingerprint.Compute(GridExpander.Expand(spec)[0]), TrialFingerprint.Compute(trials[0])); // never resumes the other's checkpoints
    }

    [Fact]
    public void Threads_fixed_by_the_spec_are_part_of_each_trials_identity_and_a_spec_without_them_keeps_its_fingerprint()
    {
        var spec = Spec();
        var plain = GridExpander.Expand(spec)[0];
        var one = GridExpander.Expand(spec with { Training = spec.Training with { Threads = 1 } })[0];
        var two = GridExpander.Expand(spec with { Training = spec.Training with { Threads = 2 } })[0];
        Assert.Equal(plain.TrialId, one.TrialId); // the same cell...
        Assert.Equal(3, new[] { plain, one, two }.Select(TrialFingerprint.Compute).Distinct().Count()); // ...three computations
        Assert.DoesNotContain("threads", SweepSpecLoader.ToJson(spec), StringComparison.OrdinalIgnoreCase); // unset: the canonical JSON of before
        Assert.Equal(2, SweepSpecLoader.Parse(SweepSpecLoader.ToJson(spec with { Training = spec.Training with { Threads = 2 } })).Training.Threads);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1025)]
    public void Threads_out_of_range_are_refused_naming_the_field(int threads)
    {
        var spec = Spec();
        var e = Assert.Throws<SpecException>(() => SweepSpecLoader.Parse(SweepSpecLoader.ToJson(spec with { Training = spec.Training with { Threads = threads } })));
        Assert.Contains($"training.threads: {threads} (expected 1 to 1024", e.Message);
    }

    [Fact]
    public void Computed_properties_stay_out_of_the_canonical_json_that_fingerprints_specs_and_trials()
    {
        // A getter-only property would enter the canonical form and change every fingerprint: existing studies would
        // then refuse to resume and their checkpoints would be ignored.
        Type[] types = [typeof(SweepSpec), typeof(DatasetSpec), typeof(ModelSpec), typeof(TrainingSpec), typeof(GridSpec),
            typeof(ExecutionSpec), typeof(AnalysisSpec), typeof(TrialSpec)];
        var computed = types.SelectMany(t => t.GetProperties().Where(p => p.SetMethod is null
                && p.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonIgnoreAttribute), true).Length == 0)
            .Select(p => $"{t.Name}.{p.Name}"));
        Assert.Equal(["TrialSpec.LearningRate", "TrialSpec.ParsedBnMode"], computed.Order());
    }

    [Fact]
    public void A_spec_that_does_not_set_the_scaling_keeps_the_canonical_form_and_fingerprint_it_had_before_the_field_existed()
    {
        Assert.DoesNotContain("learningRateScaling", SweepSpecLoader.ToJson(Spec()));
        Assert.DoesNotContain("learningRateScaling", System.Text.Json.JsonSerializer.Serialize(GridExpander.Expand(Spec())[0], SweepSpecLoader.JsonOptions));
    }

    [Fact]
    public void A_spec_that_does_not_name_an_optimizer_keeps_the_canonical_form_and_fingerprint_it_had_before_the_field_existed()
    {
        Assert.DoesNotContain("optimizer", SweepSpecLoader.ToJson(Spec()));
        Assert.DoesNotContain("optimizer", System.Text.Json.JsonSerializer.Serialize(GridExpander.Expand(Spec())[0], SweepSpecLoader.JsonOptions));
    }

    [Fact]
    public void Seeds_come_before_batch_and_lr_so_partial_sweeps_hold_whole_grids()
    {
        var trials = GridExpander.Expand(Spec());
        var firstNine = trials.Take(9).ToList();
        Assert.All(firstNine, t => Assert.Equal(("none", 0), (t.BnMode, t.Seed)));
        Assert.Equal(9, firstNine.Select(t => (t.BatchSize, t.BaseLearningRate)).Distinct().Count());
    }

    [Theory]
    [InlineData(1.0 / 256, "2^-8")]
    [InlineData(1.0, "2^0")]
    [InlineData(0.03, "0.03")]
    [InlineData(0.1, "0.1")]
    public void Learning_rates_print_as_powers_of_two_when_exact(double value, string text)
    {
        Assert.Equal(text, LearningRateFormat.Format(value));
        Assert.True(LearningRateFormat.TryParse(text, out double back));
        Assert.Equal(value, back);
    }

    [Theory]
    [InlineData("none", BnKind.None, 0)]
    [InlineData("batch", BnKind.Batch, 0)]
    [InlineData("ghost:16", BnKind.Ghost, 16)]
    public void Bn_modes_parse(string text, BnKind kind, int size)
    {
        Assert.True(BnMode.TryParse(text, out var mode));
        Assert.Equal(new BnMode(kind, size), mode);
        Assert.Equal(text, mode.ToString());
    }

    [Theory]
    [InlineData("ghost")]
    [InlineData("ghost:")]
    [InlineData("ghost:-2")]
    [InlineData("ghost:x")]
    [InlineData("group")]
    public void Bad_bn_modes_are_rejected(string text) => Assert.False(BnMode.TryParse(text, out _));
}
