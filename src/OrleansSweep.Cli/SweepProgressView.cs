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
/// result grids at the end. It keeps a <see cref="SweepMirror"/> current (a study's, seeded with what the study holds, or a fresh
/// one), so each poll costs what changed; <c>onResults</c> gets each poll's new results (to write them into a study).
/// </summary>
public sealed class SweepProgressView(IAnsiConsole console, SweepClient client, bool interactive)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public async Task<SweepSnapshot> FollowAsync(SweepSpec spec, SweepMirror mirror, Action<IReadOnlyList<RecordedResult>>? onResults = null,
        CancellationToken cancellation = default) =>
        interactive ? await WithLiveGridAsync(spec, mirror, onResults, cancellation) : await WithLinesAsync(mirror, onResults, cancellation);

    private async Task<SweepSnapshot> WithLinesAsync(SweepMirror mirror, Action<IReadOnlyList<RecordedResult>>? onResults, CancellationToken cancellation)
    {
        int reported = mirror.Results.Count; // a study's earlier results were reported when they came
        await foreach (var added in client.FollowAsync(mirror, PollInterval, cancellation))
        {
            foreach (var record in added)
                console.WriteLine($"[{++reported}/{mirror.TotalTrials}] {record.Result.TrialId}: {Describe(record.Result)}");
            if (added.Count > 0) onResults?.Invoke(added);
        }
        return mirror.ToSnapshot();
    }

    /// <summary>A live, grid-shaped display (see <see cref="LiveGrid"/>), redrawn twice a second.</summary>
    private async Task<SweepSnapshot> WithLiveGridAsync(SweepSpec spec, SweepMirror mirror, Action<IReadOnlyList<RecordedResult>>? onResults,
        CancellationToken cancellation)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var layout = new LiveCells.Layout(spec);
        await console.Live(new Markup("starting...")).AutoClear(false).StartAsync(async context =>
        {
            await foreach (var added in client.FollowAsync(mirror, PollInterval, cancellation))
            {
                if (mirror.Spec is { } current && !ReferenceEquals(current, layout.Spec)) layout = new LiveCells.Layout(current); // the grid grew
                context.UpdateTarget(LiveGrid.Render(layout, mirror.ToSnapshot(), mirror.RunningCount, clock.Elapsed));
                if (added.Count > 0) onResults?.Invoke(added);
            }
        });
        return mirror.ToSnapshot();
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
