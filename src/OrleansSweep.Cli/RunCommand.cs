using System.Globalization;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Native;
using Spectre.Console;

namespace OrleansSweep.Cli;

/// <summary>`orleans-sweep run`: an embedded silo + client runs a whole sweep and writes its study directory.</summary>
public sealed class RunCommand(IAnsiConsole console)
{
    public sealed record Settings(string SpecPath, string? StudyPath, DeviceOptions Devices, bool Interactive);

    public async Task<int> ExecuteAsync(Settings settings, CancellationToken cancellation)
    {
        var spec = SweepSpecLoader.LoadFile(settings.SpecPath);
        DatasetCatalog.EnsureAvailable(spec.Dataset);
        string study = StudyDirectory.Prepare(settings.StudyPath ?? StudyDirectory.DefaultFor(spec.Name), spec);
        var trials = GridExpander.Expand(spec);

        console.MarkupLineInterpolated($"Sweep [bold]{spec.Name}[/]: {trials.Count} trials ({spec.Model.Architecture} on {spec.Dataset.Name}, {spec.Training.Epochs} epochs each)");
        console.MarkupLineInterpolated($"Study directory: {study}");
        console.MarkupLineInterpolated($"Devices: {string.Join(", ", settings.Devices.Devices)} x {settings.Devices.SlotsPerDevice} slot(s), {settings.Devices.EffectiveThreadsPerTrial} thread(s) per trial");

        // Load TorchSharp now, so what the loader has to say is printed before the live progress display starts.
        var native = TorchNativeLoader.EnsureLoaded();
        if (native.Patched) console.MarkupLineInterpolated($"[grey]{native.Message}[/]");

        await using var cluster = await EmbeddedCluster.StartAsync(settings.Devices, study, cancellation);
        var client = cluster.Client;
        await client.StartAsync(spec);

        SweepSnapshot final;
        bool cancelled = false;
        using (cancellation.Register(() => { cancelled = true; _ = client.CancelAsync(spec.Name); }))
        {
            final = settings.Interactive
                ? await WatchWithProgressBarAsync(client, spec, trials, study)
                : await WatchWithLinesAsync(client, spec, trials, study);
        }

        WriteStudy(study, spec, trials, final);
        console.WriteLine();
        foreach (var table in ResultTables.Render(ResultGrid.Build(spec, final.Results))) console.Write(table);
        int Count(TrialStatus status) => final.Results.Values.Count(r => r.Status == status);
        int failed = Count(TrialStatus.Failed), stopped = Count(TrialStatus.Cancelled);
        console.MarkupLineInterpolated($"{final.Results.Count - stopped}/{trials.Count} trials finished: {Count(TrialStatus.Completed)} converged, {Count(TrialStatus.Diverged)} diverged, {failed} failed{(stopped > 0 ? $", {stopped} cancelled" : "")}.");
        console.MarkupLineInterpolated($"Results: {Path.Combine(study, StudyFiles.JsonFileName)}, {Path.Combine(study, StudyFiles.CsvFileName)}");
        foreach (var failure in final.Results.Values.Where(r => r.Status == TrialStatus.Failed).Take(5))
            console.MarkupLineInterpolated($"[yellow]{failure.TrialId} failed:[/] {failure.FailureReason}");

        if (cancelled || final.State == SweepState.Cancelled) return ExitCodes.Cancelled;
        return failed > 0 ? ExitCodes.TrialsFailed : ExitCodes.Ok;
    }

    private async Task<SweepSnapshot> WatchWithLinesAsync(Client.SweepClient client, SweepSpec spec, IReadOnlyList<TrialSpec> trials, string study)
    {
        var reported = new HashSet<string>();
        SweepSnapshot last = null!;
        await foreach (var snapshot in client.WatchAsync(spec.Name, TimeSpan.FromMilliseconds(500)))
        {
            last = snapshot;
            foreach (var trial in trials.Where(t => snapshot.Results.ContainsKey(t.TrialId) && reported.Add(t.TrialId)))
            {
                console.WriteLine($"[{reported.Count}/{trials.Count}] {trial.TrialId}: {Describe(snapshot.Results[trial.TrialId])}");
                WriteStudy(study, spec, trials, snapshot);
            }
        }
        return last;
    }

    private async Task<SweepSnapshot> WatchWithProgressBarAsync(Client.SweepClient client, SweepSpec spec, IReadOnlyList<TrialSpec> trials, string study)
    {
        SweepSnapshot last = null!;
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var overall = context.AddTask("trials", maxValue: trials.Count * (double)spec.Training.Epochs);
                var reported = new HashSet<string>();
                await foreach (var snapshot in client.WatchAsync(spec.Name, TimeSpan.FromMilliseconds(500)))
                {
                    last = snapshot;
                    // Progress counts epochs: finished trials count whole, running ones by their epochs done.
                    double epochs = snapshot.Results.Count * (double)spec.Training.Epochs + snapshot.Running.Sum(r => r.EpochsDone);
                    overall.Value = Math.Min(epochs, overall.MaxValue);
                    overall.Description = $"{snapshot.Results.Count}/{trials.Count} trials, {snapshot.Statuses.Values.Count(s => s == TrialStatus.Running)} running";
                    foreach (var trial in trials.Where(t => snapshot.Results.ContainsKey(t.TrialId) && reported.Add(t.TrialId)))
                    {
                        console.MarkupLineInterpolated($"{trial.TrialId}: {Describe(snapshot.Results[trial.TrialId])}");
                        WriteStudy(study, spec, trials, snapshot);
                    }
                }
                if (last.State == SweepState.Completed) overall.Value = overall.MaxValue;
            });
        return last;
    }

    private static void WriteStudy(string study, SweepSpec spec, IReadOnlyList<TrialSpec> trials, SweepSnapshot snapshot) =>
        StudyFiles.Write(study, new StudyResults(spec, trials, snapshot.Results));

    private static string Describe(TrialResult r) => r.Status switch
    {
        TrialStatus.Completed => $"test accuracy {(r.FinalTestAccuracy ?? 0).ToString("P2", CultureInfo.InvariantCulture)}, test loss {(r.FinalTestLoss ?? 0).ToString("F4", CultureInfo.InvariantCulture)} ({r.Seconds.ToString("F1", CultureInfo.InvariantCulture)} s)",
        TrialStatus.Diverged => $"diverged in epoch {r.DivergedAtEpoch} (loss {r.DivergenceLoss?.ToString("G4", CultureInfo.InvariantCulture)})",
        TrialStatus.Failed => $"failed: {r.FailureReason}",
        _ => r.Status.ToString().ToLowerInvariant(),
    };
}
