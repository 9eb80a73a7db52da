using System.Globalization;

namespace OrleansSweep.Core.Results;

/// <summary>
/// An accuracy as a percentage with one decimal ("75.4"), the same everywhere it is shown: console tables, the report's
/// grid and figures, `verify`. One rule matters because the stored fractions are exact test-set counts (0.7535 of
/// 2,000 images) whose midpoints binary doubles cannot hold: 100 x 0.7535 is 75.349999..., which "F1" rounds down
/// while a 15-digit format rounds it up, so two call sites once printed the same cell as 75.3 and 75.4.
/// </summary>
public static class AccuracyFormat
{
    /// <summary>Percent of <paramref name="fraction"/>, one decimal, midpoints away from zero; no % sign.</summary>
    /// <remarks>A NaN or infinite accuracy (a measurement that broke) has no percentage: "n/a".</remarks>
    public static string Percent(double fraction) =>
        double.IsFinite(fraction) && Math.Abs(fraction) < 1e20
            ? Math.Round((decimal)fraction * 100m, 1, MidpointRounding.AwayFromZero).ToString("0.0", CultureInfo.InvariantCulture)
            : "n/a";
}
