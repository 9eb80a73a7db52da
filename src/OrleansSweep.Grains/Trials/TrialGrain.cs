using Polly.Registry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;
using Microsoft.Extensions.Options;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.Grains.Placement;
using Orleans.Placement;

namespace OrleansSweep.Grains.Trials;

/// <summary>
/// One trial. Start returns at once; <see cref="TrialRunner"/> trains on a dedicated thread of this silo, and the epochs
/// and the result are reported to the sweep grain (the result through a retrying Polly pipeline).
/// Placed only on silos that publish device slots, the least loaded of them by activation count.
/// </summary>
[DeviceSiloPlacementFilter]
[ActivationCountBasedPlacement]
public sealed class TrialGrain(TrialRunner runner, ResiliencePipelineProvider<string> pipelines, IOptions<SweepOptions> options,
    IHostApplicationLifetime lifetime, ILogger<TrialGrain> logger)
    : Grain, ITrialGrain
{
    private CancellationTokenSource _cancellation = new();
    private Task? _training;
    private TrialResult? _result;
    private IGrainTimer? _keepAlive;

    public Task Start(TrialSpec trial)
    {
        if (_result is { Status: TrialStatus.Cancelled } or { FailureKind: FailureKind.Transient })
        {
            // Another attempt (a resumed sweep, a retry after a transient failure): train again, from the checkpoints.
            (_result, _training, _cancellation) = (null, null, new CancellationTokenSource());
            _keepAlive?.Dispose();
        }
        if (_result is not null) return ReportAsync(trial.SweepName, _result); // the sweep asks again: it missed our result
        if (_training is not null) return Task.CompletedTask;

        // Training is not grain activity: this timer keeps the activation alive meanwhile, and renews the trial's lease.
        var heartbeat = options.Value.HeartbeatInterval;
        _keepAlive = this.RegisterGrainTimer(() => HeartbeatAsync(trial),
            new GrainTimerCreationOptions(heartbeat, heartbeat) { KeepAlive = true, Interleave = true });
        _training = TrainAndReportAsync(trial);
        return Task.CompletedTask;
    }

    public Task Cancel()
    {
        _cancellation.Cancel();
        return Task.CompletedTask;
    }

    private async Task TrainAndReportAsync(TrialSpec trial)
    {
        var sweep = GrainFactory.GetGrain<ISweepGrain>(trial.SweepName);
        _result = await runner.RunAsync(trial, metrics => sweep.ReportProgress(trial.TrialId, metrics).Ignore(), _cancellation.Token);
        await ReportAsync(trial.SweepName, _result);
    }

    private async Task ReportAsync(string sweepName, TrialResult result)
    {
        var sweep = GrainFactory.GetGrain<ISweepGrain>(sweepName);
        try
        {
            await pipelines.GetPipeline(TrialResilience.ReportResult).ExecuteAsync(async _ => await sweep.ReportResult(result));
            // Acknowledged: the result is durable in the sweep's log, so nothing here is needed any more (a sweep of a
            // million cells would otherwise keep a million idle activations until Orleans' idle collection). A stopped
            // trial goes too: its next start resumes from the checkpoint in a fresh activation. Unless the sweep has
            // already started the next attempt here while this report was on its way back (a quick retry after a
            // transient failure): deactivating now would stop that attempt's heartbeats and expire its lease.
            if (ReferenceEquals(_result, result)) this.DeactivateOnIdle();
        }
        catch (Exception e) when (e is SiloUnavailableException || lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // Expected while a silo stops (this one, or the sweep's): one line, no stack trace. Not lost either way.
            logger.LogWarning("Trial {Trial}: its result was not reported to sweep {Sweep}: {Why}; the sweep starts it again and gets it then",
                result.TrialId, sweepName, lifetime.ApplicationStopping.IsCancellationRequested ? "this silo is stopping" : "the sweep's silo is unavailable");
        }
        catch (Exception e)
        {
            // Not lost: a sweep re-starts trials it has no result for, and Start then reports the stored result again.
            logger.LogError(e, "Trial {Trial}: its result could not be reported to sweep {Sweep}", result.TrialId, sweepName);
        }
    }

    private async Task HeartbeatAsync(TrialSpec trial)
    {
        if (_training?.IsCompleted == true)
        {
            _keepAlive?.Dispose();
            return;
        }
        try { await GrainFactory.GetGrain<ISweepGrain>(trial.SweepName).RenewLease(trial.TrialId); }
        catch (Exception e) { logger.LogDebug(e, "Trial {Trial}: heartbeat not delivered", trial.TrialId); }
    }
}
