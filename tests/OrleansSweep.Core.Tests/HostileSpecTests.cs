using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Core.Tests;

/// <summary>Specs a hostile user would write: each refused with the field named, never an internal error.</summary>
public class HostileSpecTests
{
    private static readonly string Valid = SweepSpecLoader.ToJson(SampleResults.Spec);

    private static string Refused(string json)
    {
        var error = Assert.Throws<SpecException>(() => SweepSpecLoader.Parse(json));
        Assert.DoesNotContain("System.", error.Message);
        return error.Message;
    }

    [Theory]
    [InlineData("grid")]
    [InlineData("training")]
    [InlineData("dataset")]
    [InlineData("execution")]
    [InlineData("model")]
    public void A_null_object_is_refused_naming_the_field(string field)
    {
        string json = System.Text.RegularExpressions.Regex.Replace(Valid, $"\"{field}\": \\{{[^{{}}]*(\\{{[^{{}}]*\\}}[^{{}}]*)*\\}}", $"\"{field}\": null");
        Assert.Contains($"\"{field}\": null", json);
        Assert.Matches($"field '{field}' \\(line \\d+\\): null \\(expected a value", Refused(json));
    }

    [Fact]
    public void A_null_list_is_refused_naming_the_field() =>
        Assert.Contains("field 'grid.batchSizes'", Refused(System.Text.RegularExpressions.Regex.Replace(Valid, "\"batchSizes\": \\[[^\\]]*\\]", "\"batchSizes\": null")));

    [Fact]
    public void A_dataset_path_with_a_NUL_is_refused_naming_the_field() // found by HostileInputPropertyTests: was an internal error
    {
        string json = Valid.Replace("\"name\": \"fashion-mnist\"", "\"name\": \"fashion-mnist\", \"path\": \"nul\\u0000x\"");
        Assert.Contains("\\u0000", json);
        Assert.Contains("dataset.path: 'nul\\u0000x' holds a control character", Refused(json));
    }

    [Fact]
    public void A_name_ending_in_a_newline_is_refused() =>
        Assert.Contains("name", Refused(Valid.Replace("\"name\": \"r\"", "\"name\": \"r\\n\"")));

    [Fact]
    public void A_key_given_twice_or_in_another_case_is_refused()
    {
        Assert.Contains("more than once", Refused(Valid.Replace("\"name\": \"r\",", "\"name\": \"r\", \"name\": \"s\",")));
        Assert.Contains("unknown field 'NAME'", Refused(Valid.Replace("\"name\": \"r\",", "\"name\": \"r\", \"NAME\": \"s\",")));
    }

    [Fact]
    public void A_number_where_a_whole_number_belongs_says_so_in_words()
    {
        string message = Refused(Valid.Replace("\"epochs\": 1", "\"epochs\": 1e3"));
        Assert.Contains("field 'training.epochs' (line", message);
        Assert.Contains("expected a whole number", message);
    }

    [Fact]
    public void A_learning_rate_whose_scaled_value_is_infinite_is_refused() =>
        Assert.Contains("grid.baseLearningRates: 1E+308 times batch size 64 is a learning rate of",
            Refused(System.Text.RegularExpressions.Regex.Replace(Valid, "\"baseLearningRates\": \\[[^\\]]*\\]", "\"baseLearningRates\": [1e308]")));

    [Fact]
    public void A_grid_of_more_than_a_million_cells_is_refused_before_it_is_laid_out()
    {
        string lrs = string.Join(", ", Enumerable.Range(1, 1100).Select(i => (i * 1e-6).ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        string seeds = string.Join(", ", Enumerable.Range(0, 1000));
        string json = System.Text.RegularExpressions.Regex.Replace(Valid, "\"baseLearningRates\": \\[[^\\]]*\\]", $"\"baseLearningRates\": [{lrs}]");
        json = System.Text.RegularExpressions.Regex.Replace(json, "\"seeds\": \\[[^\\]]*\\]", $"\"seeds\": [{seeds}]");
        Assert.Contains("grid: 2,200,000 cells (expected at most 1,000,000", Refused(json));
    }

    [Fact]
    public void An_endless_file_or_a_directory_given_as_the_spec_is_refused_in_one_line()
    {
        Assert.Contains("larger than 1024 KiB", Assert.Throws<SpecException>(() => SweepSpecLoader.LoadFile("/dev/zero")).Message);
        Assert.Contains("is a directory", Assert.Throws<SpecException>(() => SweepSpecLoader.LoadFile("/tmp")).Message);
    }

    [Fact]
    public void A_completed_result_with_a_nan_metric_is_a_divergence_never_converged()
    {
        var nan = new TrialResult
        {
            TrialId = "t", Status = TrialStatus.Completed, FinalTestAccuracy = 0.1, FinalTestLoss = double.NaN,
            Epochs = [new EpochMetrics(1, 2.0, 2.1, 0.3, 1), new EpochMetrics(2, 2.0, double.NaN, 0.1, 1)],
        };
        var judged = nan.WithNonFiniteMetricsAsDivergence();
        Assert.Equal((TrialStatus.Diverged, 2), (judged.Status, judged.DivergedAtEpoch!.Value));
        Assert.Null(judged.FinalTestAccuracy);
        var fine = SampleResults.Completed("t", 0.8);
        Assert.Same(fine, fine.WithNonFiniteMetricsAsDivergence());
        Assert.Equal("n/a", AccuracyFormat.Percent(double.NaN));
    }
}
