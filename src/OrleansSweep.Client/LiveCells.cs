using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Client;

/// <summary>
/// What one cell of a running sweep is doing, its seeds folded: the median accuracy of those that completed, how many
/// diverged, failed or were cancelled, the epochs of those running, and how many wait. The CLI's live grid and the live
/// page draw the same thing from it.
/// </summary>
public sealed record LiveCell(int Seeds, double? MedianAccuracy, int Completed, int Diverged, int Failed, int Cancelled,
    IReadOnlyList<TrialProgress> Running, int RunningWithoutEpoch)
{
    public int Pending => Seeds - Completed - Diverged - Failed - Cancelled - Running.Count - RunningWithoutEpoch;
}

/// <summary>A sweep's grid as the live views draw it (<see cref="LiveCell"/> per cell), and its progress.</summary>
public static class LiveCells
{
    /// <summary>Beyond this many cells a grid is not drawn (no screen shows it): the bar and the counts stay.</summary>
    public const int MaxDrawnCells = 1_000;

    public static LiveCell Of(IReadOnlyList<TrialSpec> seeds, SweepSnapshot snapshot)
    {
        var results = seeds.Select(t => snapshot.Results.GetValueOrDefault(t.TrialId)).OfType<TrialResult>().ToList();
        var running = seeds.Select(t => snapshot.Running.FirstOrDefault(r => r.TrialId == t.TrialId)).OfType<TrialProgress>().ToList();
        var accuracies = results.Where(r => r.Status == TrialStatus.Completed && r.FinalTestAccuracy is not null).Select(r => r.FinalTestAccuracy!.Value).ToList();
        int runningWithoutEpoch = seeds.Count(t => snapshot.Statuses.GetValueOrDefault(t.TrialId) == TrialStatus.Running && !snapshot.Results.ContainsKey(t.TrialId))
                                  - running.Count;
        return new LiveCell(seeds.Count, accuracies.Count > 0 ? Statistics.Median(accuracies) : null,
            results.Count(r => r.Status == TrialStatus.Completed), results.Count(r => r.Status == TrialStatus.Diverged),
            results.Count(r => r.Status == TrialStatus.Failed), results.Count(r => r.Status == TrialStatus.Cancelled),
            running, Math.Max(0, runningWithoutEpoch));
    }

    /// <summary>Finished-epoch fraction and an ETA from the pace so far (null until an epoch has finished).</summary>
    public static (double Fraction, TimeSpan? Remaining) Progress(SweepSpec spec, SweepSnapshot snapshot, TimeSpan elapsed)
    {
        double total = Math.Max(1, snapshot.TotalTrials) * (double)spec.Training.Epochs;
        double done = Math.Min(total, snapshot.Results.Count * (double)spec.Training.Epochs + snapshot.Running.Sum(r => r.EpochsDone));
        TimeSpan? remaining = done > 0 ? TimeSpan.FromSeconds(elapsed.TotalSeconds * (total - done) / done) : null;
        return (done / total, remaining);
    }

    /// <summary>Each BN mode's cells with their seeds, grouped once per spec (a redraw then costs the cells, not a scan per cell).</summary>
    public sealed class Layout
    {
        public Layout(SweepSpec spec)
        {
            Spec = spec;
            Cells = spec.Grid.BnModes.Count * spec.Grid.BatchSizes.Count * spec.Grid.BaseLearningRates.Count;
            if (Cells > MaxDrawnCells) return;
            var byCell = GridExpander.Expand(spec).ToLookup(t => (t.BnMode, t.BatchSize, t.BaseLearningRate));
            Seeds = spec.Grid.BnModes.Select(bn => BnMode.Parse(bn).ToString()).ToDictionary(mode => mode, mode =>
                spec.Grid.BatchSizes.Select(b => spec.Grid.BaseLearningRates.Select(l => byCell[(mode, b, l)].ToList()).ToArray()).ToArray());
        }

        public SweepSpec Spec { get; }
        public int Cells { get; }
        /// <summary>BN mode -> [batch][LR] -> the cell's trials; null when the grid is too large to draw.</summary>
        public IReadOnlyDictionary<string, List<TrialSpec>[][]>? Seeds { get; }
    }
}
