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
    /// <param name="threads">Intra-op threads for the trial about to train on the calling thread; null leaves libtorch's
    /// setting. libtorch keeps the count per thread (OpenMP's nthreads ICV, MKL's local setting), so trials training side
    /// by side on their own threads each compute with their own (docs/design.md §4.3; TrainerTests checks it).</param>
    public static PreparedDevice Prepare(string? device, int? threads, ILogger? logger = null)
    {
        var native = TorchNativeLoader.EnsureLoaded(logger);
        if (threads is int count)
        {
            // libtorch initialises a thread's count lazily, at its first parallel call or get_num_threads, from the
            // process-wide count that set_num_threads also writes: a trial beside this one setting its own count in
            // between would be copied into this thread. Initialising first makes this thread's count its own.
            torch.get_num_threads();
            torch.set_num_threads(count);
        }
        var resolved = TorchDevices.Resolve(device, out string? fallback);
        return new PreparedDevice(resolved, fallback, native);
    }

    /// <summary>Trains <paramref name="trial"/>; a device fallback is the result's first warning.</summary>
    public static TrialResult Train(TrialSpec trial, PreparedDevice device, string? checkpointDirectory, string? finalWeightsPath,
        IProgress<EpochMetrics> progress, CancellationToken cancellation, string? tensorBoardRun = null, int? threads = null)
    {
        var context = new TrainingContext(device.Device,
            checkpointDirectory is null ? null : new CheckpointStore(checkpointDirectory), finalWeightsPath, TensorBoardRun: tensorBoardRun,
            Threads: threads);
        var result = TrialTrainer.Train(trial, DatasetCatalog.Load(trial.Dataset), context, progress, cancellation);
        return device.Fallback is null ? result : result with { Warnings = [device.Fallback, .. result.Warnings] };
    }

    /// <summary>
    /// The threads a trial computes with: the spec's (part of its identity), else those its newest checkpoint was trained
    /// with (a resumed trial keeps its numerics), else the caller's default (the silo's slot, `train --threads`).
    /// </summary>
    public static int? ThreadsFor(TrialSpec trial, string? checkpointDirectory, int? fallback)
    {
        if (trial.Training.Threads is int fixedBySpec) return fixedBySpec;
        if (checkpointDirectory is not null && Directory.Exists(checkpointDirectory)
            && new CheckpointStore(checkpointDirectory).LoadLatest(TrialFingerprint.Compute(trial)).Checkpoint?.Threads is int resumed)
            return resumed;
        return fallback;
    }
}
