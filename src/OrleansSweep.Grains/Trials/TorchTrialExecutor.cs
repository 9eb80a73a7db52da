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
using OrleansSweep.Study;
using TorchSharp;

namespace OrleansSweep.Grains.Trials;

/// <summary>
/// The product path: loads the trial's dataset (shared cache) and trains it with TorchSharp, checkpointing into and
/// resuming from the trial's artifact directory, and exporting its final weights there (final.pt). Interpolation jobs
/// read two trials' final.pt from the same root.
/// </summary>
public sealed class TorchTrialExecutor(IOptions<ArtifactOptions> artifacts, ILogger<TorchTrialExecutor> logger) : ITrialExecutor
{
    public TrialResult Execute(TrialSpec trial, string device, int threads, IProgress<EpochMetrics> progress, CancellationToken cancellation)
    {
        if (PathContainment.DatasetViolation(trial.Dataset, artifacts.Value.DataRoots) is { } violation) throw new DatasetException(violation);
        string? directory = trial.Interpolation is null ? artifacts.Value.TrialDirectory(trial.SweepName, trial.TrialId) : null;
        string? checkpoints = directory is null ? null : StudyLayout.Checkpoints(directory);
        // The spec's threads (or the checkpoint's), never the packing's: see TrainingSpec.Threads.
        int? trialThreads = TrialSetup.ThreadsFor(trial, checkpoints, threads);
        var prepared = TrialSetup.Prepare(device, trialThreads, logger);
        if (prepared.Fallback is not null) logger.LogWarning("Trial {Trial}: {Reason}", trial.TrialId, prepared.Fallback);
        if (trial.Interpolation is not null) return Interpolate(trial, prepared.Device, cancellation);
        var result = TrialSetup.Train(trial, prepared, checkpoints,
            directory is null ? null : StudyLayout.FinalWeights(directory), progress, cancellation,
            artifacts.Value.TensorBoardRun(trial.SweepName, trial.TrialId), trialThreads);
        foreach (string warning in result.Warnings.Skip(prepared.Fallback is null ? 0 : 1)) logger.LogWarning("Trial {Trial}: {Warning}", trial.TrialId, warning);
        return result;
    }

    private TrialResult Interpolate(TrialSpec job, torch.Device device, CancellationToken cancellation)
    {
        string FinalWeights(string trialId) =>
            artifacts.Value.TrialDirectory(job.SweepName, trialId) is { } directory
                ? StudyLayout.FinalWeights(directory)
                : throw new ArgumentException($"interpolation '{job.Interpolation!.Name}' needs the trials' final weights, but this silo keeps no artifacts (set an artifact root).");
        return InterpolationStage.Run(job, DatasetCatalog.Load(job.Dataset), device, FinalWeights, cancellation);
    }
}
