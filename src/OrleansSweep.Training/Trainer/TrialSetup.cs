using Microsoft.Extensions.Logging;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;
using OrleansSweep.Training.Checkpoints;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Native;
using TorchSharp;

namespace OrleansSweep.Training.Trainer;

/// <summary>The device a trial trains on, and why it is not the one asked for (null: it is).</summary>
public sealed record PreparedDevice(torch.Device Device, string? Fallback, NativeLoadReport Native);

/// <summary>
/// Setting up and running one trial, the same way for `orleans-sweep train` and for a silo's trial executor: native
/// libraries loaded (patched where the system needs it), intra-op threads set, device resolved, dataset loaded from the
/// process-wide cache, checkpoints and final weights where the caller keeps them.
/// </summary>
public static class TrialSetup
{
    private static readonly Lock ThreadGate = new();
    private static int _threads;

    /// <param name="threads">Intra-op threads; null leaves libtorch's setting. Process-wide, so every trial of a
    /// process gets the same share (docs/design.md §4.3).</param>
    public static PreparedDevice Prepare(string? device, int? threads, ILogger? logger = null)
    {
        var native = TorchNativeLoader.EnsureLoaded(logger);
        if (threads is int count)
            lock (ThreadGate)
                if (_threads != count) { torch.set_num_threads(count); _threads = count; }
        var resolved = TorchDevices.Resolve(device, out string? fallback);
        return new PreparedDevice(resolved, fallback, native);
    }

    /// <summary>Trains <paramref name="trial"/>; a device fallback is the result's first warning.</summary>
    public static TrialResult Train(TrialSpec trial, PreparedDevice device, string? checkpointDirectory, string? finalWeightsPath,
        IProgress<EpochMetrics> progress, CancellationToken cancellation, string? tensorBoardRun = null)
    {
        var context = new TrainingContext(device.Device,
            checkpointDirectory is null ? null : new CheckpointStore(checkpointDirectory), finalWeightsPath, TensorBoardRun: tensorBoardRun);
        var result = TrialTrainer.Train(trial, DatasetCatalog.Load(trial.Dataset), context, progress, cancellation);
        return device.Fallback is null ? result : result with { Warnings = [device.Fallback, .. result.Warnings] };
    }
}
