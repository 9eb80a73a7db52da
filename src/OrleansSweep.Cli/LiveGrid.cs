using System.Globalization;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace OrleansSweep.Cli;

/// <summary>
/// The live view of a running sweep, shaped like its result: one batch x LR table per BN mode whose cells show what
/// each cell is doing (pending, running with its epochs, accuracy, diverged, failed), under an overall bar with ETA.
/// Seeds of a cell fold into one entry, so a 1,000-trial grid still fits a screen (Ray Tune prints a row per trial).
/// </summary>
public static class LiveGrid
{
    /// <summary>The text of one cell: its seeds' states, most advanced first.</summary>
    public static string CellText(IReadOnlyList<TrialSpec> seeds, SweepSnapshot snapshot)
    {
        var results = seeds.Select(t => snapshot.Results.GetValueOrDefault(t.TrialId)).OfType<TrialResult>().ToList();
        var running = seeds.Select(t => snapshot.Running.FirstOrDefault(r => r.TrialId == t.TrialId)).OfType<TrialProgress>().ToList();
        var parts = new List<string>();
        var accuracies = results.Where(r => r.Status == TrialStatus.Completed && r.FinalTestAccuracy is not null).Select(r => r.FinalTestAccuracy!.Value).ToList();
        if (accuracies.Count > 0) parts.Add($"[green]{AccuracyFormat.Percent(Statistics.Median(accuracies))}%[/]");
        int diverged = results.Count(r => r.Status == TrialStatus.Diverged);
        if (diverged > 0) parts.Add(seeds.Count == 1 ? "[red]diverged[/]" : $"[red]{diverged} div[/]");
        int failed = results.Count(r => r.Status == TrialStatus.Failed);
        if (failed > 0) parts.Add($"[yellow]{failed} failed[/]");
        foreach (var r in running) parts.Add($"[blue]> {r.EpochsDone}/{r.EpochsTotal}[/]");
        int runningWithoutEpoch = seeds.Count(t => snapshot.Statuses.GetValueOrDefault(t.TrialId) == TrialStatus.Running) - running.Count;
        if (runningWithoutEpoch > 0) parts.Add("[blue]> 0[/]");
        if (parts.Count == 0) parts.Add("[grey].[/]"); // every seed still pending
        return string.Join(" ", parts);
    }

    /// <summary>Finished-epoch fraction and an ETA from the pace so far (null until an epoch has finished).</summary>
    public static (double Fraction, TimeSpan? Remaining) Progress(SweepSpec spec, SweepSnapshot snapshot, TimeSpan elapsed)
    {
        double total = Math.Max(1, snapshot.TotalTrials) * (double)spec.Training.Epochs;
        double done = Math.Min(total, snapshot.Results.Count * (double)spec.Training.Epochs + snapshot.Running.Sum(r => r.EpochsDone));
        TimeSpan? remaining = done > 0 ? TimeSpan.FromSeconds(elapsed.TotalSeconds * (total - done) / done) : null;
        return (done / total, remaining);
    }

    /// <summary>Beyond this many cells a grid is not drawn (no terminal shows it): the bar and the counts stay.</summary>
    public const int MaxDrawnCells = 1_000;

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

    public static IRenderable Render(Layout layout, SweepSnapshot snapshot, int running, TimeSpan elapsed)
    {
        var spec = layout.Spec;
        var (fraction, remaining) = Progress(spec, snapshot, elapsed);
        var rows = new List<IRenderable>
        {
            new BreakdownChart().Width(60).HideTags()
                .AddItem("done", Math.Round(fraction * 1000), Color.Green).AddItem("to do", Math.Round((1 - fraction) * 1000), Color.Grey23),
            new Markup(FormattableString.Invariant(
                $"{snapshot.Results.Count}/{snapshot.TotalTrials} trials done, {running} running, {fraction:P0} of epochs; elapsed {elapsed.ToString(@"hh\:mm\:ss")}, ETA {(remaining is { } r ? r.ToString(@"hh\:mm\:ss") : "--:--:--")}")),
        };
        if (layout.Seeds is null)
        {
            rows.Add(new Markup(FormattableString.Invariant($"[grey]{layout.Cells:N0} cells: too many to draw here (`orleans-sweep status` prints the grids).[/]")));
            return new Rows(rows);
        }
        foreach (var (mode, cells) in layout.Seeds)
            rows.Add(ResultTables.GridTable(spec.Grid.BatchSizes, spec.Grid.BaseLearningRates, (b, l) => CellText(cells[b][l], snapshot)).Title($"BN {mode}"));
        return new Rows(rows);
    }
}
