using OrleansSweep.Core.Specs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;
using OrleansSweep.Training.Checkpoints;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Landscape;
using OrleansSweep.Training.Native;
using OrleansSweep.Training.Trainer;
using TorchSharp;

namespace OrleansSweep.Grains.Trials;

/// <summary>
/// The product path: loads the trial's dataset (shared cache) and trains it with TorchSharp, checkpointing into and
/// resuming from the trial's artifact directory, and exporting its final weights there (final.pt). Interpolation jobs
/// read two trials' final.pt from the same root.
/// </summary>
public sealed class TorchTrialExecutor(IOptions<ArtifactOptions> artifacts, ILogger<TorchTrialExecutor> logger) : ITrialExecutor
{
    private static readonly Lock ThreadGate = new();
    private static int _threads;

    public TrialResult Execute(TrialSpec trial, string device, int threads, IProgress<EpochMetrics> progress, CancellationToken cancellation)
    {
        TorchNativeLoader.EnsureLoaded(logger);
        lock (ThreadGate)
        {
            // set_num_threads is process-wide: every slot of this silo gets the same share of the cores.
            if (_threads != threads) { torch.set_num_threads(threads); _threads = threads; }
        }
        var resolved = TorchDevices.Resolve(device, out string? fallback);
        if (fallback is not null) logger.LogWarning("Trial {Trial}: {Reason}", trial.TrialId, fallback);
        if (PathContainment.DatasetViolation(trial.Dataset, artifacts.Value.DataRoots) is { } violation) throw new DatasetException(violation);
        if (trial.Interpolation is not null) return Interpolate(trial, resolved, cancellation);
        string? directory = artifacts.Value.TrialDirectory(trial.SweepName, trial.TrialId);
        var context = new TrainingContext(resolved,
            directory is null ? null : new CheckpointStore(Path.Combine(directory, "checkpoints")),
            directory is null ? null : Path.Combine(directory, "final.pt"));
        var result = TrialTrainer.Train(trial, DatasetCatalog.Load(trial.Dataset), context, progress, cancellation);
        foreach (string warning in result.Warnings) logger.LogWarning("Trial {Trial}: {Warning}", trial.TrialId, warning);
        return fallback is null ? result : result with { Warnings = [fallback, .. result.Warnings] };
    }

    private TrialResult Interpolate(TrialSpec job, torch.Device device, CancellationToken cancellation)
    {
        string FinalWeights(string trialId) =>
            artifacts.Value.TrialDirectory(job.SweepName, trialId) is { } directory
                ? Path.Combine(directory, "final.pt")
                : throw new ArgumentException($"interpolation '{job.Interpolation!.Name}' needs the trials' final weights, but this silo keeps no artifacts (set an artifact root).");
        return InterpolationStage.Run(job, DatasetCatalog.Load(job.Dataset), device, FinalWeights, cancellation);
    }
}
