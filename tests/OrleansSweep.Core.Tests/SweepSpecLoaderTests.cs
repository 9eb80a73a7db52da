using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Core.Tests;

public class SweepSpecLoaderTests
{
    private const string Valid = """
        {
          "name": "s1",
          "dataset": { "name": "fashion-mnist", "trainSubset": 1000 },
          "model": { "architecture": "resnet8" },
          "training": { "epochs": 2 },
          "grid": { "batchSizes": [16, 64], "baseLearningRates": ["2^-8", 0.01], "bnModes": ["none", "ghost:8"], "seeds": [0, 1] }
        }
        """;

    [Fact]
    public void Parses_a_valid_spec_with_power_of_two_learning_rates_and_defaults()
    {
        var spec = SweepSpecLoader.Parse(Valid);
        Assert.Equal("s1", spec.Name);
        Assert.Equal([16, 64], spec.Grid.BatchSizes);
        Assert.Equal([1.0 / 256, 0.01], spec.Grid.BaseLearningRates);
        Assert.Equal(1e-4, spec.Training.WeightDecay);
        Assert.Equal(0, spec.Training.Momentum);
        Assert.Equal("step", spec.Training.Schedule);
    }

    [Fact]
    public void A_relative_dataset_path_is_relative_to_the_spec_file_not_the_working_directory()
    {
        using var work = new TemporaryDirectory();
        string specs = work.Combine("specs");
        Directory.CreateDirectory(specs);
        string file = Path.Combine(specs, "s.json");
        File.WriteAllText(file, SyntheticFashion.SpecJson("relative", "../data"));
        Assert.Equal(work.Combine("data"), SweepSpecLoader.LoadFile(file).Dataset.Path);
        File.WriteAllText(file, SyntheticFashion.SpecJson("absolute", "/srv/data"));
        Assert.Equal("/srv/data", SweepSpecLoader.LoadFile(file).Dataset.Path);
    }

    [Fact]
    public void The_shipped_quickstart_spec_is_valid()
    {
        var spec = SweepSpecLoader.LoadFile(Path.Combine(RepositoryRoot.Path, "configs", "quickstart.json"));
        Assert.Equal("quickstart", spec.Name);
        Assert.Equal("resnet8", spec.Model.Architecture);
        Assert.Equal(["none"], spec.Grid.BnModes);
    }

    [Fact]
    public void Round_trips_through_its_own_json()
    {
        var spec = SweepSpecLoader.Parse(Valid);
        var again = SweepSpecLoader.Parse(SweepSpecLoader.ToJson(spec));
        Assert.Equal(SpecFingerprint.Compute(spec), SpecFingerprint.Compute(again));
        Assert.Equal(spec.Grid.BaseLearningRates, again.Grid.BaseLearningRates);
    }

    [Fact]
    public void Fingerprint_ignores_layout_but_not_content()
    {
        var a = SweepSpecLoader.Parse(Valid);
        var b = SweepSpecLoader.Parse(Valid.Replace("\n", "\n   ").Replace("\"2^-8\"", "0.00390625"));
        var c = SweepSpecLoader.Parse(Valid.Replace("\"epochs\": 2", "\"epochs\": 3"));
        Assert.Equal(SpecFingerprint.Compute(a), SpecFingerprint.Compute(b));
        Assert.NotEqual(SpecFingerprint.Compute(a), SpecFingerprint.Compute(c));
    }

    [Theory]
    [InlineData("\"epochs\": 2", "\"epochs\": 2, \"epohcs\": 3", "unknown field 'training.epohcs'")]
    [InlineData("\"name\": \"s1\",", "", "missing required field(s) 'name'")]
    [InlineData("\"epochs\": 2", "\"epochs\": \"two\"", "field 'training.epochs'")]
    [InlineData("[16, 64]", "[16, 64", "field 'grid.batchSizes[2]' (line")]
    [InlineData("{", "{{", "malformed JSON")]
    [InlineData("[\"2^-8\", 0.01]", "[\"fast\"]", "field 'grid.baseLearningRates'")]
    public void Reports_json_problems_with_the_field(string find, string replace, string expected)
    {
        var error = Assert.Throws<SpecException>(() => SweepSpecLoader.Parse(Valid.Replace(find, replace), "my.json"));
        Assert.StartsWith("my.json: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var error = Assert.Throws<SpecException>(() => SweepSpecLoader.LoadFile("/nonexistent/spec.json"));
        Assert.Equal("/nonexistent/spec.json: the spec file does not exist.", error.Message);
    }

    [Theory]
    [InlineData("\"name\": \"s1\"", "\"name\": \"../evil\"", "name: '../evil' is not a valid sweep name")]
    [InlineData("[16, 64]", "[0, 64]", "grid.batchSizes: 0 (expected batch sizes >= 1)")]
    [InlineData("[16, 64]", "[-4]", "grid.batchSizes: -4")]
    [InlineData("[16, 64]", "[16, 2048]", "grid.batchSizes: 2048 is larger than dataset.trainSubset (1000)")]
    [InlineData("[16, 64]", "[16, 16]", "grid.batchSizes: 16 appears 2 times")]
    [InlineData("[16, 64]", "[]", "grid.batchSizes: empty")]
    [InlineData("[\"2^-8\", 0.01]", "[0]", "grid.baseLearningRates: 0 (expected finite learning rates > 0)")]
    [InlineData("[\"2^-8\", 0.01]", "[-0.1]", "grid.baseLearningRates: -0.1")]
    [InlineData("[\"2^-8\", 0.01]", "[\"NaN\"]", "grid.baseLearningRates: NaN")]
    [InlineData("[\"2^-8\", 0.01]", "[\"Infinity\"]", "grid.baseLearningRates: Infinity")]
    [InlineData("[\"none\", \"ghost:8\"]", "[\"layer\"]", "grid.bnModes: unknown BN mode 'layer'")]
    [InlineData("[\"none\", \"ghost:8\"]", "[\"ghost:0\"]", "grid.bnModes: unknown BN mode 'ghost:0'")]
    [InlineData("[\"none\", \"ghost:8\"]", "[\"ghost:12\"]", "ghost BN size 12 does not divide batch size 16")]
    [InlineData("\"resnet8\"", "\"resnet9\"", "model.architecture: unknown model 'resnet9'")]
    [InlineData("\"fashion-mnist\"", "\"imagenet\"", "dataset.name: unknown dataset 'imagenet'")]
    [InlineData("\"epochs\": 2", "\"epochs\": 0", "training.epochs: 0")]
    [InlineData("\"epochs\": 2", "\"epochs\": 2, \"momentum\": 1", "training.momentum: 1")]
    [InlineData("\"epochs\": 2", "\"epochs\": 2, \"schedule\": \"cyclic\"", "training.schedule: unknown schedule 'cyclic'")]
    [InlineData("\"epochs\": 2", "\"epochs\": 2, \"learningRateScaling\": \"sqrt\"", "training.learningRateScaling: unknown scaling 'sqrt'")]
    [InlineData("\"epochs\": 2", "\"epochs\": 2, \"optimizer\": \"rmsprop\"", "training.optimizer: unknown optimizer 'rmsprop' (expected sgd or adam)")]
    [InlineData("\"epochs\": 2", "\"epochs\": 2, \"optimizer\": \"adam\", \"momentum\": 0.9", "training.momentum: 0.9 with optimizer adam")]
    [InlineData("[0, 1]", "[0, -1]", "grid.seeds: -1")]
    public void Validation_names_the_field_and_what_was_expected(string find, string replace, string expected)
    {
        Assert.Contains(find, Valid);
        var error = Assert.Throws<SpecException>(() => SweepSpecLoader.Parse(Valid.Replace(find, replace)));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var error = Assert.Throws<SpecException>(() => SweepSpecLoader.Parse(Valid.Replace("[16, 64]", "[0]").Replace("\"resnet8\"", "\"vgg\"")));
        Assert.Equal(2, error.Errors.Count);
    }
}
