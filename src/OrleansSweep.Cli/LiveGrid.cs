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

    public static IRenderable Render(SweepSpec spec, SweepSnapshot snapshot, TimeSpan elapsed)
    {
        var trials = GridExpander.Expand(spec);
        var (fraction, remaining) = Progress(spec, snapshot, elapsed);
        int running = snapshot.Statuses.Values.Count(s => s == TrialStatus.Running);
        var rows = new List<IRenderable>
        {
            new BreakdownChart().Width(60).HideTags()
                .AddItem("done", Math.Round(fraction * 1000), Color.Green).AddItem("to do", Math.Round((1 - fraction) * 1000), Color.Grey23),
            new Markup(FormattableString.Invariant(
                $"{snapshot.Results.Count}/{snapshot.TotalTrials} trials done, {running} running, {fraction:P0} of epochs; elapsed {elapsed.ToString(@"hh\:mm\:ss")}, ETA {(remaining is { } r ? r.ToString(@"hh\:mm\:ss") : "--:--:--")}")),
        };
        foreach (string bn in spec.Grid.BnModes)
        {
            string mode = BnMode.Parse(bn).ToString();
            var table = ResultTables.GridTable(spec.Grid.BatchSizes, spec.Grid.BaseLearningRates, (b, l) => CellText(
                trials.Where(t => t.BnMode == mode && t.BatchSize == spec.Grid.BatchSizes[b] && t.BaseLearningRate == spec.Grid.BaseLearningRates[l]).ToList(),
                snapshot)).Title($"BN {mode}");
            rows.Add(table);
        }
        return new Rows(rows);
    }
}
