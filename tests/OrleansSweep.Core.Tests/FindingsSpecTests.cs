using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Tests;

public class FindingsSpecTests
{
    private const string Base = """
        "name": "r", "dataset": { "name": "fashion-mnist" }, "model": { "architecture": "resnet8" }, "training": { "epochs": 1 },
        "grid": { "batchSizes": [16, 64], "baseLearningRates": ["2^-8"], "seeds": [0, 1] }
        """;

    private static SweepSpec With(string findingsJson) => SweepSpecLoader.Parse($$"""{ {{Base}}, "findings": {{findingsJson}} }""");

    [Theory]
    [InlineData("""{ "confidence": 1 }""", "findings.confidence: 1 (expected a number between 0 and 1")]
    [InlineData("""{ "confidence": 0 }""", "findings.confidence: 0")]
    [InlineData("""{ "minSeeds": 1 }""", "findings.minSeeds: 1 (expected a seed count >= 2")]
    [InlineData("""{ "stableAccuracyOverChance": 10 }""", "findings.stableAccuracyOverChance: 10 (expected a multiple of chance accuracy from 0 to below 10")]
    [InlineData("""{ "smallBatchLimit": 0 }""", "findings.smallBatchLimit: 0")]
    [InlineData("""{ "fittedTrainAccuracy": 99 }""", "findings.fittedTrainAccuracy: 99 (expected a training accuracy above 0 and at most 1")]
    [InlineData("""{ "narrowingCorrelation": -2 }""", "findings.narrowingCorrelation: -2")]
    [InlineData("""{ "ghostBestMin": 16, "ghostBestMax": 4 }""", "findings.ghostBestMin / ghostBestMax: 16 / 4")]
    [InlineData("""{ "sharpnessRatio": 0 }""", "findings.sharpnessRatio: 0")]
    [InlineData("""{ "sharpnessMeasure": "filter" }""", "findings.sharpnessMeasure: 'filter' (expected space@eps")]
    [InlineData("""{ "confidance": 0.9 }""", "unknown field 'findings.confidance'")]
    public void Bad_findings_settings_name_the_field(string findingsJson, string expected) =>
        Assert.Contains(expected, string.Join("\n", Assert.Throws<SpecException>(() => With(findingsJson)).Errors));

    [Fact]
    public void Thresholds_are_read_from_the_spec_and_change_no_trial_and_no_older_specs_fingerprint()
    {
        var plain = SweepSpecLoader.Parse($$"""{ {{Base}} }""");
        var judged = With("""{ "confidence": 0.95, "stableAccuracyOverChance": 3, "sharpnessMeasure": "filter@0.001" }""");
        Assert.Equal((0.95, 3.0, "filter@0.001", 32), (judged.Findings!.Confidence, judged.Findings.StableAccuracyOverChance,
            judged.Findings.SharpnessMeasure, judged.Findings.SmallBatchLimit));
        // A spec without the section writes none: studies of earlier versions keep their fingerprints.
        Assert.DoesNotContain("findings", SweepSpecLoader.ToJson(plain));
        Assert.NotEqual(SpecFingerprint.Compute(plain), SpecFingerprint.Compute(judged)); // fixed before the run: part of the study
        Assert.Equal(GridExpander.Expand(plain).Select(TrialFingerprint.Compute), GridExpander.Expand(judged).Select(TrialFingerprint.Compute));
    }
}
