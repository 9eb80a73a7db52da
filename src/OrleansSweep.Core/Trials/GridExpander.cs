using System.Globalization;
using System.Runtime.CompilerServices;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Core.Trials;

/// <summary>Expands a validated spec into its trials: each cell exactly once, ids depending only on the cell.</summary>
public static class GridExpander
{
    /// <summary>
    /// Order: BN mode, then seed, then batch size, then base LR, each axis in spec order. Seeds come before the
    /// batch/LR axes so that a partly run sweep already has one complete batch x LR grid per BN mode.
    /// </summary>
    /// <remarks>
    /// Expanded once per spec object and process: the sweep, the live view (twice a second), the result grids and the
    /// findings all ask for the same spec's trials.
    /// </remarks>
    public static IReadOnlyList<TrialSpec> Expand(SweepSpec spec) => Expanded.GetValue(spec, ExpandOnce);

    private static readonly ConditionalWeakTable<SweepSpec, IReadOnlyList<TrialSpec>> Expanded = new();

    private static IReadOnlyList<TrialSpec> ExpandOnce(SweepSpec spec)
    {
        var layout = new GridLayout(spec);
        return Enumerable.Range(0, layout.Count).Select(layout.TrialAt).ToList().AsReadOnly();
    }

    public static string TrialIdFor(int batchSize, double baseLearningRate, BnMode bn, int seed) =>
        string.Create(CultureInfo.InvariantCulture,
            $"bs{batchSize}-lr{LearningRateFormat.Format(baseLearningRate)}-{bn.Token}-s{seed}");
}
