using OrleansSweep.Reporting;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using Microsoft.Extensions.Configuration;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Native;
using Spectre.Console;
using OrleansSweep.Core.Sweeps;
using OrleansSweep.Study;

using OrleansSweep.Hosting;

namespace OrleansSweep.Cli;

/// <summary>`orleans-sweep run` / `resume`: an embedded silo + client runs a whole sweep and writes its study directory.</summary>
public sealed class RunCommand(IAnsiConsole console)
{
    /// <param name="DeviceSettings">The embedded silo's device settings as configuration keys (see <see cref="SettingFlags"/>).</param>
    /// <param name="PagePort">Loopback port of the live page; null: a free one; 0: none.</param>
    public sealed record Settings(string SpecPath, string? StudyPath, IConfiguration DeviceSettings, bool Interactive, int? PagePort = null);

    public async Task<int> ExecuteAsync(Settings settings, CancellationToken cancellation)
    {
        var spec = SweepSpecLoader.LoadFile(settings.SpecPath);
        DatasetCatalog.Preflight(spec);
        string study = StudyDirectory.Prepare(settings.StudyPath ?? StudyDirectory.DefaultFor(spec.Name), spec, out var previous);
        using var studyLock = StudyDirectory.Lock(study);
        var trials = GridExpander.Expand(spec);

        console.MarkupLineInterpolated($"Sweep [bold]{spec.Name}[/]: {trials.Count} trials ({spec.Model.Architecture} on {spec.Dataset.Name}, {spec.Training.Epochs} epochs each)");
        console.MarkupLineInterpolated($"Study directory: {study}");
        if (previous is not null && GridExtension.Extends(previous, spec))
            console.MarkupLineInterpolated($"Extending sweep {spec.Name}: {GridExtension.AddedCells(previous, spec)} new cells (the finished ones are kept).");
        var devices = DeviceOptions.From(settings.DeviceSettings);
        string threads = spec.Training.Threads is int fixedBySpec ? $"{fixedBySpec} (the spec's)" : devices.EffectiveThreadsPerTrial.ToString();
        console.MarkupLineInterpolated($"Devices: {string.Join(", ", devices.TrainingDevices.Select(d => devices.IsAutomaticGpu(d) ? $"{d} x up to {devices.SlotsOn(d)} slot(s), by its first trial's memory" : $"{d} x {devices.SlotsOn(d)} slot(s)"))}, {threads} thread(s) per trial");
        if (MetricsOptions.From(settings.DeviceSettings).ScrapeUrl is { } scrape) console.MarkupLineInterpolated($"Metrics: {scrape}");
        // Load TorchSharp now, so what the loader has to say is printed before the live progress display starts.
        var native = TorchNativeLoader.EnsureLoaded();
        if (native.Patched) console.MarkupLineInterpolated($"[grey]{native.Message}[/]");

        SqliteGrainStorage.EnsureReadable(Path.Combine(study, StudyLayout.StateFileName));
        int pagePort = settings.PagePort ?? LoopbackPorts.Free();
        await using var cluster = await EmbeddedCluster.StartAsync(settings.DeviceSettings, study, cancellation, pagePort);
        if (pagePort != 0) console.MarkupLineInterpolated($"Live page: {EmbeddedHost.PageUrl(pagePort, spec.Name)}");
        var client = cluster.Client;
        await client.SubmitAsync(spec);

        // The study is written from the sweep's changes, as `pull` writes one from a cluster: the same files, one path.
        var writer = await StudyWriter.OpenAsync(client, spec.Name, study, CancellationToken.None);
        var view = new SweepProgressView(console, client, settings.Interactive);
        SweepSnapshot final;
        bool cancelled = false;
        using (cancellation.Register(() => { cancelled = true; _ = client.CancelAsync(spec.Name); }))
        {
            final = await view.FollowAsync(spec, writer.Mirror, added => writer.Record(added, final: false));
        }

        await writer.UpdateAsync(withReport: false, CancellationToken.None);
        int failed = view.Summarize(spec, final);
        console.MarkupLineInterpolated($"Results: {Path.Combine(study, StudyLayout.ResultsJsonFileName)}, {Path.Combine(study, StudyLayout.ResultsCsvFileName)}, {Path.Combine(study, StudyLayout.GridsCsvFileName)}");
        try
        {
            console.MarkupLineInterpolated($"Report: {StudyReport.Write(study, new StudyResults(spec, trials, final.Results))}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TypeInitializationException or DllNotFoundException)
        {
            // The results are written; figures are a convenience `orleans-sweep report` can redo.
            console.MarkupLineInterpolated($"[yellow]warning:[/] the report could not be written ({e.GetType().Name}: {e.Message}); the results above are complete.");
        }
        if (cancelled || final.State == SweepState.Cancelled)
        {
            console.MarkupLineInterpolated($"Interrupted: `orleans-sweep resume {study}` continues from here.");
            return ExitCodes.Cancelled;
        }
        return failed > 0 ? ExitCodes.TrialsFailed : ExitCodes.Ok;
    }
}
