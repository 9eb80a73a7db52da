using System.Globalization;
using System.Text.Json;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Training.Checkpoints;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Native;
using OrleansSweep.Training.Trainer;
using Spectre.Console;
using TorchSharp;

namespace OrleansSweep.Cli;

/// <summary>`orleans-sweep train`: one trial of a spec, in this process, without Orleans (debugging, benchmarks).</summary>
public sealed class TrainCommand(IAnsiConsole console)
{
    public sealed record Settings(string SpecPath, string? TrialId, string Device, int? Threads, string? CheckpointDirectory,
        string? WeightsPath, bool Json, string? TensorBoardDirectory = null);

    public int Execute(Settings settings, CancellationToken cancellation)
    {
        var spec = SweepSpecLoader.LoadFile(settings.SpecPath);
        // Where the trial writes is checked before it trains, not when it finishes.
        if (settings.CheckpointDirectory is { } checkpoints) Study.OutputPath.CheckDirectory(checkpoints, "--checkpoints");
        if (settings.WeightsPath is { } weights) Study.OutputPath.Check(weights, "--weights");
        if (settings.TensorBoardDirectory is { } board) Study.OutputPath.CheckDirectory(board, "--tensorboard");
        var trials = GridExpander.Expand(spec);
        var trial = settings.TrialId is null
            ? trials.Count == 1 ? trials[0] : throw new UsageException(
                $"{settings.SpecPath} has {trials.Count} trials; pick one with --trial (e.g. --trial {trials[0].TrialId}).")
            : trials.FirstOrDefault(t => t.TrialId == settings.TrialId) ?? throw new UsageException(
                $"--trial: '{settings.TrialId}' is not a trial of {settings.SpecPath} (its trials: {string.Join(", ", trials.Take(6).Select(t => t.TrialId))}{(trials.Count > 6 ? ", ..." : "")}).");

        if (trial.Training.Threads is int fixedBySpec && settings.Threads is int asked && asked != fixedBySpec)
            throw new UsageException($"--threads: {asked}, but {settings.SpecPath} fixes training.threads = {fixedBySpec} (the trial's numbers depend on it); drop --threads.");
        int? threads = TrialSetup.ThreadsFor(trial, settings.CheckpointDirectory, settings.Threads);
        var prepared = TrialSetup.Prepare(settings.Device, threads);
        if (prepared.Native.Patched && !settings.Json) console.MarkupLineInterpolated($"[grey]{prepared.Native.Message}[/]");
        var device = prepared.Device;
        if (prepared.Fallback is not null && !settings.Json) console.MarkupLineInterpolated($"[yellow]warning:[/] {prepared.Fallback}");
        var data = DatasetCatalog.Load(trial.Dataset); // the process-wide cache: Train below reads the same copy

        if (!settings.Json)
            console.MarkupLineInterpolated(
                $"Trial [bold]{trial.TrialId}[/]: {trial.Model.Architecture}, m = {trial.BatchSize}, eta = {trial.LearningRate.ToString("G6", CultureInfo.InvariantCulture)}, BN {trial.BnMode}, seed {trial.Seed}, {data.Train.Count} training images, {torch.get_num_threads()} thread(s) on {device}");
        var progress = new InlineProgress<EpochMetrics>(m =>
        {
            if (!settings.Json)
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {m.Epoch}/{trial.Training.Epochs}: train loss {m.TrainLoss:F4}, test loss {m.TestLoss:F4}, test accuracy {m.TestAccuracy:P2} ({m.Seconds:F1} s)"));
        });
        var result = TrialSetup.Train(trial, prepared, settings.CheckpointDirectory, settings.WeightsPath, progress, cancellation,
            settings.TensorBoardDirectory, threads ?? torch.get_num_threads());

        if (settings.Json) console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(result, SweepSpecLoader.JsonOptions));
        else
        {
            foreach (string warning in result.Warnings.Where(w => w != prepared.Fallback)) console.MarkupLineInterpolated($"[yellow]warning:[/] {warning}");
            if (result.ResumedFromEpoch is int from) console.WriteLine($"resumed after epoch {from} from {settings.CheckpointDirectory}");
            console.WriteLine(result.Status switch
            {
                TrialStatus.Completed => string.Create(CultureInfo.InvariantCulture,
                    $"completed: final test accuracy {result.FinalTestAccuracy:P2} (median of the last {Math.Min(5, result.Epochs.Count)} epochs), {result.Seconds:F1} s"),
                TrialStatus.Diverged => string.Create(CultureInfo.InvariantCulture,
                    $"diverged in epoch {result.DivergedAtEpoch} (loss {result.DivergenceLoss:G4}), {result.Seconds:F1} s"),
                _ => result.Status.ToString().ToLowerInvariant(),
            });
        }
        return ExitCodes.Ok;
    }
}

/// <summary>A command line that cannot work as given; the message says which option and what was expected.</summary>
public sealed class UsageException(string message) : Core.UserErrorException(message);
