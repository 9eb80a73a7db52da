using Microsoft.Extensions.Logging;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Native;
using OrleansSweep.Training.Trainer;
using TorchSharp;

namespace OrleansSweep.Grains.Trials;

/// <summary>The product path: loads the trial's dataset (shared cache) and trains it with TorchSharp.</summary>
public sealed class TorchTrialExecutor(ILogger<TorchTrialExecutor> logger) : ITrialExecutor
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
        var data = DatasetCatalog.Load(trial.Dataset);
        return TrialTrainer.Train(trial, data, new TrainingContext(resolved), progress, cancellation);
    }
}
