using System.Globalization;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Reporting;
using Spectre.Console;
using OrleansSweep.Study;

namespace OrleansSweep.Cli;

/// <summary>
/// Follows a sweep to its end: a live grid with an overall bar and ETA on a terminal, one line per finished trial otherwise, and the
/// result grids at the end. <paramref name="onResult"/> sees the snapshot whenever a trial has finished.
/// </summary>
public sealed class SweepProgressView(IAnsiConsole console, SweepClient client, bool interactive, Action<SweepSnapshot>? onResult = null)
{
    public async Task<SweepSnapshot> FollowAsync(SweepSpec spec, CancellationToken cancellation = default)
    {
        // Interpolation jobs have no cell: they are listed after the grid under their own ids.
        var grid = GridExpander.Expand(spec);
        var trials = grid.Concat((spec.Analysis?.Interpolations ?? []).Select(i => grid[0] with { TrialId = InterpolationPlanner.JobIdFor(i.Name) })).ToList();
        return interactive ? await WithLiveGridAsync(spec, trials, cancellation) : await WithLinesAsync(spec, trials, cancellation);
    }

    private async Task<SweepSnapshot> WithLinesAsync(SweepSpec spec, IReadOnlyList<TrialSpec> trials, CancellationToken cancellation)
    {
        var reported = new HashSet<string>();
        SweepSnapshot last = null!;
        await foreach (var snapshot in client.WatchAsync(spec.Name, TimeSpan.FromMilliseconds(500), cancellation))
        {
            last = snapshot;
            bool any = false;
            foreach (var trial in trials.Where(t => snapshot.Results.ContainsKey(t.TrialId) && reported.Add(t.TrialId)))
            {
                console.WriteLine($"[{reported.Count}/{trials.Count}] {trial.TrialId}: {Describe(snapshot.Results[trial.TrialId])}");
                any = true;
            }
            if (any) onResult?.Invoke(snapshot);
        }
        return last;
    }

    /// <summary>A live, grid-shaped display (see <see cref="LiveGrid"/>), redrawn twice a second.</summary>
    private async Task<SweepSnapshot> WithLiveGridAsync(SweepSpec spec, IReadOnlyList<TrialSpec> trials, CancellationToken cancellation)
    {
        SweepSnapshot last = null!;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var reported = new HashSet<string>();
        await console.Live(new Markup("starting...")).AutoClear(false).StartAsync(async context =>
        {
            await foreach (var snapshot in client.WatchAsync(spec.Name, TimeSpan.FromMilliseconds(500), cancellation))
            {
                last = snapshot;
                context.UpdateTarget(LiveGrid.Render(spec, snapshot, clock.Elapsed));
                if (trials.Any(t => snapshot.Results.ContainsKey(t.TrialId) && reported.Add(t.TrialId))) onResult?.Invoke(snapshot);
            }
        });
        return last;
    }

    /// <summary>The grids and a one-line summary; returns the number of failed trials.</summary>
    public int Summarize(SweepSpec spec, SweepSnapshot final)
    {
        console.WriteLine();
        var grids = ResultGrid.Build(spec, final.Results);
        foreach (var table in ResultTables.Render(grids)) console.Write(table);
        foreach (var table in ResultTables.RenderLandscape(grids, StudyFiles.SharpnessKeys(spec), spec.Analysis?.Hessian is not null)) console.Write(table);
        int Count(TrialStatus status) => final.Results.Values.Count(r => r.Status == status);
        int failed = Count(TrialStatus.Failed), stopped = Count(TrialStatus.Cancelled);
        console.MarkupLineInterpolated($"{final.Results.Count - stopped}/{final.TotalTrials} trials finished: {Count(TrialStatus.Completed)} converged, {Count(TrialStatus.Diverged)} diverged, {failed} failed{(stopped > 0 ? $", {stopped} cancelled" : "")}.");
        foreach (var failure in final.Results.Values.Where(r => r.Status == TrialStatus.Failed).Take(5))
            console.MarkupLineInterpolated($"[yellow]{failure.TrialId} failed:[/] {failure.FailureReason}");
        return failed;
    }

    public static string Describe(TrialResult r) => r.Status switch
    {
        TrialStatus.Completed when r.Interpolation is { } line =>
            $"interpolated {line.SmallTrialId} -> {line.LargeTrialId} at {line.Points.Count} points ({r.Seconds.ToString("F1", CultureInfo.InvariantCulture)} s)",
        TrialStatus.Completed => $"test accuracy {(r.FinalTestAccuracy ?? 0).ToString("P2", CultureInfo.InvariantCulture)}, test loss {(r.FinalTestLoss ?? 0).ToString("F4", CultureInfo.InvariantCulture)} ({r.Seconds.ToString("F1", CultureInfo.InvariantCulture)} s)",
        TrialStatus.Diverged => $"diverged in epoch {r.DivergedAtEpoch} (loss {r.DivergenceLoss?.ToString("G4", CultureInfo.InvariantCulture)})",
        TrialStatus.Failed => $"failed: {r.FailureReason}",
        _ => r.Status.ToString().ToLowerInvariant(),
    };
}
