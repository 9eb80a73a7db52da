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
        var trials = new List<TrialSpec>();
        foreach (string bn in spec.Grid.BnModes)
        foreach (int seed in spec.Grid.Seeds)
        foreach (int batch in spec.Grid.BatchSizes)
        foreach (double lr in spec.Grid.BaseLearningRates)
        {
            var mode = BnMode.Parse(bn);
            trials.Add(new TrialSpec
            {
                SweepName = spec.Name,
                TrialId = TrialIdFor(batch, lr, mode, seed),
                BatchSize = batch,
                BaseLearningRate = lr,
                BnMode = mode.ToString(),
                Seed = seed,
                Dataset = spec.Dataset,
                Model = spec.Model,
                Training = spec.Training,
                Analysis = spec.Analysis is { Sharpness: not null } or { Hessian: not null } ? spec.Analysis with { Interpolations = [] } : null,
            });
        }
        return trials.AsReadOnly();
    }

    public static string TrialIdFor(int batchSize, double baseLearningRate, BnMode bn, int seed) =>
        string.Create(CultureInfo.InvariantCulture,
            $"bs{batchSize}-lr{LearningRateFormat.Format(baseLearningRate)}-{bn.Token}-s{seed}");
}
