using MathNet.Numerics.Distributions;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Core.Results;

/// <summary>
/// holds: the claim's side, clear of the noise; does-not-hold: the other side, clear of it; within-noise: the interval
/// over seeds straddles zero, so this study cannot tell; cannot-be-judged: one seed, so there is no noise estimate at
/// all, or an interval clear of zero from fewer seeds than a verdict needs; not-applicable: the study cannot speak to
/// the claim.
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
/// order, augmentation), which a test-set standard error would miss, and with two seeds it is wide (t_1 = 6.3 at 90%).
/// Wide on average, but not reliably: two seeds give one degree of freedom, and a pair that happens to agree gives a
/// narrow interval around whatever side it fell on (the published ghost-BN study's four seeds, taken two at a time,
/// "held" for one pair and "did not hold" for another). So a decisive verdict needs <see cref="MinSeeds"/> seeds (the
/// spec's <c>findings.minSeeds</c>, 3 by default); fewer that clear zero cannot be judged, and fewer whose interval
/// straddles zero are within noise, as any number of seeds would be.
/// </summary>
/// <param name="Unit">What a margin is measured in ("accuracy points", "log10 ratio", "rank correlation").</param>
public sealed record FindingEvidence(string Unit, double Margin, double? Noise, double Confidence, IReadOnlyList<SeedMargin> PerSeed, int MinSeeds)
{
    public int Seeds => PerSeed.Count;

    public static FindingEvidence FromSeeds(string unit, IReadOnlyList<SeedMargin> perSeed, FindingsSpec rules)
    {
        if (perSeed.Count == 0) throw new ArgumentException("a finding needs at least one seed's margin.", nameof(perSeed));
        double mean = perSeed.Average(s => s.Margin);
        if (perSeed.Count < 2) return new FindingEvidence(unit, mean, null, rules.Confidence, perSeed, rules.MinSeeds);
        double variance = perSeed.Sum(s => (s.Margin - mean) * (s.Margin - mean)) / (perSeed.Count - 1);
        double t = StudentT.InvCDF(0, 1, perSeed.Count - 1, (1 + rules.Confidence) / 2);
        return new FindingEvidence(unit, mean, t * Math.Sqrt(variance / perSeed.Count), rules.Confidence, perSeed, rules.MinSeeds);
    }

    public FindingVerdict Verdict =>
        Noise is not double noise ? FindingVerdict.CannotBeJudged
        : Margin - noise <= 0 && Margin + noise >= 0 ? FindingVerdict.WithinNoise
        : Seeds < MinSeeds ? FindingVerdict.CannotBeJudged
        : Margin > 0 ? FindingVerdict.Holds
        : FindingVerdict.DoesNotHold;

    /// <summary>Why a verdict could not be given, for a reader: "one seed", or too few seeds for a decisive one.</summary>
    public string? WhyNotJudged => Verdict != FindingVerdict.CannotBeJudged ? null
        : Noise is null ? "one seed"
        : $"{Seeds} seeds, clear of zero, but a verdict needs {MinSeeds} (findings.minSeeds)";
}
