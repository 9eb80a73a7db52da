using System.Globalization;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
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
        var cell = LiveCells.Of(seeds, snapshot);
        var parts = new List<string>();
        if (cell.MedianAccuracy is double accuracy) parts.Add($"[green]{AccuracyFormat.Percent(accuracy)}%[/]");
        if (cell.Diverged > 0) parts.Add(seeds.Count == 1 ? "[red]diverged[/]" : $"[red]{cell.Diverged} div[/]");
        if (cell.Failed > 0) parts.Add($"[yellow]{cell.Failed} failed[/]");
        foreach (var r in cell.Running) parts.Add($"[blue]> {r.EpochsDone}/{r.EpochsTotal}[/]");
        if (cell.RunningWithoutEpoch > 0) parts.Add("[blue]> 0[/]");
        if (parts.Count == 0) parts.Add("[grey].[/]"); // every seed still pending
        return string.Join(" ", parts);
    }

    public static IRenderable Render(LiveCells.Layout layout, SweepSnapshot snapshot, int running, TimeSpan elapsed)
    {
        var spec = layout.Spec;
        var (fraction, remaining) = LiveCells.Progress(spec, snapshot, elapsed);
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
