using MathNet.Numerics.Distributions;

namespace OrleansSweep.Core.Results;

/// <summary>
/// holds: the claim's side, clear of the noise; does-not-hold: the other side, clear of it; within-noise: the interval
/// over seeds straddles zero, so this study cannot tell; cannot-be-judged: one seed, so there is no noise estimate at
/// all; not-applicable: the study cannot speak to the claim.
/// </summary>
public enum FindingVerdict { Holds, DoesNotHold, NotApplicable, WithinNoise, CannotBeJudged }

/// <summary>The claim's margin measured on one seed alone (cells paired by seed: the same seed, the same initial weights).</summary>
public sealed record SeedMargin(int Seed, double Margin);

/// <summary>
/// What a verdict rests on. Each finding measures its claim once per seed as a margin, positive on the claim's side
/// (e.g. the best small-batch accuracy minus the best large-batch one, in points); <see cref="Margin"/> is their mean
/// and <see cref="Noise"/> the half-width of the paired Student t interval at <see cref="Confidence"/>
/// (t_{n-1} x s / sqrt(n)). The claim holds only when the whole interval lies on its side. A paired interval over
/// seeds is the honest noise for a grid study: it counts everything that changes with the seed (initial weights, batch
/// order, augmentation), which a test-set standard error would miss, and with two seeds it is wide (t_1 = 6.3 at 90%),
/// as two seeds deserve.
/// </summary>
/// <param name="Unit">What a margin is measured in ("accuracy points", "log10 ratio", "rank correlation").</param>
public sealed record FindingEvidence(string Unit, double Margin, double? Noise, double Confidence, IReadOnlyList<SeedMargin> PerSeed)
{
    public int Seeds => PerSeed.Count;

    public static FindingEvidence FromSeeds(string unit, IReadOnlyList<SeedMargin> perSeed, double confidence)
    {
        if (perSeed.Count == 0) throw new ArgumentException("a finding needs at least one seed's margin.", nameof(perSeed));
        double mean = perSeed.Average(s => s.Margin);
        if (perSeed.Count < 2) return new FindingEvidence(unit, mean, null, confidence, perSeed);
        double variance = perSeed.Sum(s => (s.Margin - mean) * (s.Margin - mean)) / (perSeed.Count - 1);
        double t = StudentT.InvCDF(0, 1, perSeed.Count - 1, (1 + confidence) / 2);
        return new FindingEvidence(unit, mean, t * Math.Sqrt(variance / perSeed.Count), confidence, perSeed);
    }

    public FindingVerdict Verdict =>
        Noise is not double noise ? FindingVerdict.CannotBeJudged
        : Margin - noise > 0 ? FindingVerdict.Holds
        : Margin + noise < 0 ? FindingVerdict.DoesNotHold
        : FindingVerdict.WithinNoise;
}
