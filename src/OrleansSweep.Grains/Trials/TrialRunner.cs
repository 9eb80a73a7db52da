using Microsoft.Extensions.Logging;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Trainer;
using Orleans.Runtime;
using Microsoft.Extensions.Hosting;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Grains.Trials;

/// <summary>
/// Runs a trial on a device slot of this silo, on a dedicated training thread (never a grain scheduler;
/// <see cref="TrainingThreads"/>), and turns every ending into a <see cref="TrialResult"/>: divergence and
/// cancellation are results, bad data fails fast.
/// </summary>
public sealed class TrialRunner(ITrialExecutor executor, DeviceSlotPool slots, TrainingThreads threads, ILocalSiloDetails silo,
    IHostApplicationLifetime lifetime, Telemetry.SweepMetrics metrics, ILogger<TrialRunner> logger)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task<TrialResult>, byte> _training = new();

    public async Task<TrialResult> RunAsync(TrialSpec trial, Action<EpochMetrics> onEpoch, CancellationToken cancellation)
    {
        // A stopping silo starts no training: a thread that begins libtorch work while the process exits crashes it
        // (seen: torch.cuda.is_available() against libtorch's static destructors, SIGSEGV). The sweep re-dispatches.
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            return new TrialResult { TrialId = trial.TrialId, Status = TrialStatus.Cancelled, Silo = silo.SiloAddress.Endpoint.ToString() };
        var training = threads.Run(() => Run(trial, onEpoch, cancellation));
        _training.TryAdd(training, 0);
        try { return (await training) with { Silo = silo.SiloAddress.Endpoint.ToString() }; }
        finally { _training.TryRemove(training, out _); }
    }

    /// <summary>
    /// Completes when no training thread of this silo is running. A stopping host waits for it (see
    /// <see cref="TrainingDrain"/>): the threads stop at their next step once the host is stopping, and a process that
    /// exits while one is still inside libtorch can crash in libtorch's teardown.
    /// </summary>
    public async Task WhenStoppedAsync()
    {
        while (!_training.IsEmpty) await Task.WhenAll(_training.Keys); // one that started meanwhile stops at once
    }

    private TrialResult Run(TrialSpec trial, Action<EpochMetrics> onEpoch, CancellationToken trialCancellation)
    {
        // A silo that stops stops its training too (threads outlive a stopped host otherwise); the sweep re-dispatches.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(trialCancellation, lifetime.ApplicationStopping);
        var cancellation = linked.Token;
        try
        {
            cancellation.ThrowIfCancellationRequested();
            using var slot = slots.AcquireAsync(trial.BatchSize, cancellation, trial.Training.Threads).GetAwaiter().GetResult();
            cancellation.ThrowIfCancellationRequested(); // the silo began stopping while this trial waited for a slot
            return executor.Execute(trial, slot.Device, slot.Threads, new InlineProgress<EpochMetrics>(epoch =>
            {
                metrics.Epoch(slot.Device, epoch.Seconds);
                slot.EpochEnded(); // an automatic GPU's first trial is measured here
                onEpoch(epoch);
            }), cancellation);
        }
        catch (OperationCanceledException)
        {
            return new TrialResult { TrialId = trial.TrialId, Status = TrialStatus.Cancelled };
        }
        catch (Exception e) when (e is DatasetException or ArgumentException or SpecException)
        {
            // Deterministic: bad data or spec. Retrying cannot help.
            return new TrialResult { TrialId = trial.TrialId, Status = TrialStatus.Failed, FailureKind = FailureKind.Deterministic, FailureReason = e.Message };
        }
        catch (Exception e)
        {
            // Anything else (out of memory, I/O, a native error) may pass: retried from the checkpoint, a bounded number of times.
            string reason = $"{e.GetType().Name}: {WithoutNativeStack(e.Message)}";
            logger.LogWarning("Trial {Trial} failed: {Reason}", trial.TrialId, reason);
            logger.LogDebug(e, "Trial {Trial} failed", trial.TrialId);
            return new TrialResult { TrialId = trial.TrialId, Status = TrialStatus.Failed, FailureKind = FailureKind.Transient, FailureReason = reason };
        }
    }

    /// <summary>
    /// A libtorch error's message carries the C++ stack ("Exception raised from ... (most recent call first): frame #0
    /// ..."), kilobytes that would fill the log line and the result's failure reason; the first part says what failed.
    /// The whole exception still goes to the debug log.
    /// </summary>
    public static string WithoutNativeStack(string message)
    {
        int stack = message.IndexOf("Exception raised from", StringComparison.Ordinal);
        return (stack > 0 ? message[..stack] : message).Trim().TrimEnd('.') + (stack > 0 ? " (libtorch; its C++ stack is in the debug log)" : "");
    }
}

/// <summary>Holds a stopping host until this silo's training threads have stopped (each checkpoints its step first).</summary>
public sealed class TrainingDrain(TrialRunner runner) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try { await runner.WhenStoppedAsync().WaitAsync(cancellationToken); }
        catch (OperationCanceledException) { } // the host's shutdown timeout: it goes on stopping without us
    }
}
