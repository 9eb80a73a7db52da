using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OrleansSweep.Client;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Reporting;
using OrleansSweep.Study;

namespace OrleansSweep.Hosting;

/// <summary>
/// The live sweep page, served by a silo (on the dashboard's web server) and by the embedded `run`:
/// <list type="bullet">
/// <item><c>/sweeps</c>: the cluster's sweeps, linked;</item>
/// <item><c>/sweeps/&lt;name&gt;</c>: the page (one self-contained HTML file; its script polls the state below every 2 s);</item>
/// <item><c>/sweeps/&lt;name&gt;/state</c>: where the sweep stands, as JSON: counts, progress and each batch x LR cell
/// (<see cref="LiveCell"/>: median accuracy, diverged, failed, running epochs, pending), for grids up to
/// <see cref="LiveCells.MaxDrawnCells"/> cells;</item>
/// <item><c>/sweeps/&lt;name&gt;/figures/&lt;figure&gt;.svg</c>: the report's figures drawn from the results so far;</item>
/// <item><c>/sweeps/&lt;name&gt;/files/&lt;file&gt;</c>: results and grids as CSV, JSON or Parquet.</item>
/// </list>
/// Each sweep is followed through one <see cref="SweepMirror"/> here, brought up to date at most once a second however
/// many browsers look: a poll costs the sweep what changed (its result ledger after the page's sequence), not the grid.
/// </summary>
public sealed class SweepPages(SweepClient client)
{
    /// <summary>A mirror younger than this answers without asking the sweep.</summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, LiveSweep> _sweeps = new(StringComparer.Ordinal);

    private sealed class LiveSweep(string name)
    {
        public readonly SweepMirror Mirror = new(name);
        public readonly SemaphoreSlim Gate = new(1, 1);
        public DateTime CheckedAt = DateTime.MinValue;
        public LiveCells.Layout? Layout;
        public (long Sequence, IReadOnlyDictionary<string, (string Caption, string Svg)> Figures)? Drawn;
    }

    /// <summary>The sweep, up to date within <see cref="Freshness"/>; null when the cluster has no sweep of that name.</summary>
    private async Task<LiveSweep?> CurrentAsync(string name, CancellationToken cancellation)
    {
        var sweep = _sweeps.GetOrAdd(name, n => new LiveSweep(n));
        await sweep.Gate.WaitAsync(cancellation);
        try
        {
            if (DateTime.UtcNow - sweep.CheckedAt >= Freshness)
            {
                await client.CatchUpAsync(sweep.Mirror, cancellation);
                sweep.CheckedAt = DateTime.UtcNow;
            }
            if (sweep.Mirror.Spec is not { } spec)
            {
                _sweeps.TryRemove(name, out _); // not a sweep (yet): remember nothing about the name
                return null;
            }
            if (!ReferenceEquals(sweep.Layout?.Spec, spec)) sweep.Layout = new LiveCells.Layout(spec); // first look, or the grid grew
            return sweep;
        }
        finally
        {
            sweep.Gate.Release();
        }
    }

    /// <summary>The page's data: counts, progress, and the cells of each BN mode's batch x LR grid.</summary>
    public async Task<object?> StateAsync(string name, CancellationToken cancellation)
    {
        if (await CurrentAsync(name, cancellation) is not { } sweep) return null;
        var snapshot = sweep.Mirror.ToSnapshot();
        var spec = snapshot.Spec!;
        var layout = sweep.Layout!;
        int count(TrialStatus status) => snapshot.Results.Values.Count(r => r.Status == status);
        var (fraction, _) = LiveCells.Progress(spec, snapshot, TimeSpan.Zero);
        return new
        {
            name = snapshot.Name,
            state = snapshot.State.ToString().ToLowerInvariant(),
            sequence = sweep.Mirror.LastSequence,
            total = snapshot.TotalTrials,
            finished = snapshot.Finished,
            running = sweep.Mirror.RunningCount,
            completed = count(TrialStatus.Completed), diverged = count(TrialStatus.Diverged),
            failed = count(TrialStatus.Failed), cancelled = count(TrialStatus.Cancelled),
            fraction,
            model = spec.Model.Architecture, dataset = spec.Dataset.Name, epochs = spec.Training.Epochs,
            seeds = spec.Grid.Seeds.Count,
            learningRateAxis = spec.Training.LearningRateAxis.Symbol,
            cells = layout.Cells,
            grids = layout.Seeds?.Select(mode => new
            {
                bnMode = mode.Key,
                batchSizes = spec.Grid.BatchSizes,
                learningRates = spec.Grid.BaseLearningRates.Select(LearningRateFormat.Format),
                cells = mode.Value.Select(row => row.Select(seeds => LiveCells.Of(seeds, snapshot)).Select(c => new
                {
                    seeds = c.Seeds, median = c.MedianAccuracy, c.Completed, c.Diverged, c.Failed, c.Cancelled, c.Pending,
                    running = c.Running.Select(r => new[] { r.EpochsDone, r.EpochsTotal }).Concat(Enumerable.Repeat(new[] { 0, spec.Training.Epochs }, c.RunningWithoutEpoch)),
                })),
            }),
            figures = snapshot.Results.Count == 0 ? [] : (await FiguresAsync(sweep)).Select(f => new { name = f.Key, caption = f.Value.Caption }),
            files = new[] { "results.csv", "results.json", "results.parquet", "grids.csv", "grids.json", "grids.parquet" },
        };
    }

    /// <summary>One of the report's figures as SVG, drawn from the results so far (redrawn when results arrive); null: none such.</summary>
    public async Task<string?> FigureAsync(string name, string figure, CancellationToken cancellation)
    {
        if (await CurrentAsync(name, cancellation) is not { } sweep) return null;
        return (await FiguresAsync(sweep)).TryGetValue(figure, out var drawn) ? drawn.Svg : null;
    }

    private static async Task<IReadOnlyDictionary<string, (string Caption, string Svg)>> FiguresAsync(LiveSweep sweep)
    {
        await sweep.Gate.WaitAsync();
        try
        {
            long sequence = sweep.Mirror.LastSequence;
            if (sweep.Drawn is { } drawn && drawn.Sequence == sequence) return drawn.Figures;
            var results = sweep.Mirror.Results;
            var spec = sweep.Mirror.Spec!;
            var figures = StudyFigures.Build(spec, results, StudyFiles.Interpolations(results))
                .ToDictionary(f => f.Name, f => (f.Caption, f.ToSvg()));
            sweep.Drawn = (sequence, figures);
            return figures;
        }
        finally
        {
            sweep.Gate.Release();
        }
    }

    /// <summary>A study table of the results so far: (bytes, content type); null when the sweep or the file is unknown.</summary>
    public async Task<(byte[] Bytes, string ContentType)?> FileAsync(string name, string file, CancellationToken cancellation)
    {
        if (await CurrentAsync(name, cancellation) is not { } sweep) return null;
        var spec = sweep.Mirror.Spec!;
        var study = new StudyResults(spec, GridExpander.Expand(spec), sweep.Mirror.Results);
        string[] parts = file.Split('.');
        if (parts is not [("results" or "grids") and var what, ("csv" or "json" or "parquet") and var format]) return null;
        if (format == "parquet") return (await StudyFiles.ExportParquetAsync(study, what), "application/vnd.apache.parquet");
        byte[] text = System.Text.Encoding.UTF8.GetBytes(StudyFiles.Export(study, what, format));
        return (text, format == "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8");
    }

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellation) => client.ListAsync(cancellation);
}

public static class SweepPageEndpoints
{
    private static readonly JsonSerializerOptions Json = new(SweepSpecLoader.JsonOptions) { WriteIndented = false };

    /// <summary>The services the page needs beside a silo: its client calls (the silo's grain factory) and the page's mirrors.</summary>
    public static IServiceCollection AddOrleansSweepPages(this IServiceCollection services)
    {
        services.AddOrleansSweepClientCalls();
        services.AddSingleton<SweepPages>();
        return services;
    }

    /// <summary>Maps <c>/sweeps</c> and <c>/sweeps/&lt;name&gt;/...</c> (see <see cref="SweepPages"/>).</summary>
    public static IEndpointRouteBuilder MapOrleansSweepPages(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/sweeps", async (SweepPages pages, CancellationToken cancellation) =>
        {
            var names = await pages.ListAsync(cancellation);
            string items = names.Count == 0 ? "<li>none yet</li>"
                : string.Concat(names.Select(n => $"<li><a href=\"/sweeps/{Uri.EscapeDataString(n)}\">{WebUtility.HtmlEncode(n)}</a></li>"));
            return Results.Content(SweepPageHtml.List(items), "text/html; charset=utf-8");
        });
        endpoints.MapGet("/sweeps/{name}", (string name) => Results.Content(SweepPageHtml.Page(name), "text/html; charset=utf-8"));
        endpoints.MapGet("/sweeps/{name}/state", async (string name, SweepPages pages, CancellationToken cancellation) =>
            await pages.StateAsync(name, cancellation) is { } state
                ? Results.Json(state, Json, statusCode: 200)
                : Results.NotFound(new { error = $"no sweep named '{name}' on this cluster" }));
        endpoints.MapGet("/sweeps/{name}/figures/{figure}.svg", async (string name, string figure, SweepPages pages, HttpResponse response, CancellationToken cancellation) =>
        {
            if (await pages.FigureAsync(name, figure, cancellation) is not { } svg) return Results.NotFound();
            response.Headers.CacheControl = "no-cache";
            return Results.Content(svg, "image/svg+xml; charset=utf-8");
        });
        endpoints.MapGet("/sweeps/{name}/files/{file}", async (string name, string file, SweepPages pages, CancellationToken cancellation) =>
            await pages.FileAsync(name, file, cancellation) is { } found
                ? Results.File(found.Bytes, found.ContentType, file)
                : Results.NotFound());
        return endpoints;
    }
}
