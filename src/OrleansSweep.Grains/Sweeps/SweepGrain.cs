using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Sweeps;
using OrleansSweep.Core.Trials;
using OrleansSweep.Grains.Placement;

namespace OrleansSweep.Grains.Sweeps;

/// <summary>
/// One sweep, as a grain over its <see cref="SweepLedger"/> (the bookkeeping: admission, dispatch order, exactly-once
/// results, leases, back-off, analysis planning). The grain adds what the ledger cannot do itself: it appends results to
/// the sweep's <see cref="ITrialResultLog"/> and persists the ledger's compact state before acknowledging any change,
/// starts and stops trial grains, watches leases and back-offs with a timer, and holds a reminder so a restarted
/// cluster wakes the sweep.
/// </summary>
public sealed class SweepGrain(
    [PersistentState("sweep", SweepOptions.StorageName)] IPersistentState<SweepGrainState> state,
    [PersistentState("sweepspec", SweepOptions.StorageName)] IPersistentState<SweepSpecState> specState,
    ITrialResultLog resultLog,
    IOptions<SweepOptions> options,
    IOptions<Trials.ArtifactOptions> artifacts,
    ClusterCapacity capacity,
    Telemetry.SweepMetrics metrics,
    TimeProvider clock,
    ILogger<SweepGrain> logger) : Grain, ISweepGrain, IRemindable
{
    private const string WakeUpReminder = "wake-up";

    private SweepLedger _ledger = null!;
    private IGrainTimer? _supervisor;
    private SweepRecords? _records;

    private SweepOptions Settings => options.Value;
    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _records = new SweepRecords(state, specState, resultLog, Name);
        try { await ResumeAfterActivationAsync(rereadState: false); }
        // A stale activation elsewhere wrote in between: read the newest state and take over from it.
        catch (InconsistentStateException) { await ResumeAfterActivationAsync(rereadState: true); }
    }

    private string Name => this.GetPrimaryKeyString();

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.Forget(Name); // the silo that activates it next reports it
        return Task.CompletedTask;
    }

    private async Task ResumeAfterActivationAsync(bool rereadState)
    {
        _ledger = await _records!.OpenAsync(Settings.Ledger, rereadState);
        _ledger.RetryScheduled += notice =>
        {
            logger.LogRetry(notice);
            metrics.Retry(Name, notice);
        };
        // After a restart, trials marked running may have lost their silo. Starting them again is safe: a trial grain
        // that is still training ignores it, one that finished re-reports its result, a new one resumes from the
        // trial's checkpoint.
        var running = _ledger.RestartRunning(Now);
        if (_records.HasUnwrittenRecords) await PersistAsync(); // a migrated state's results
        if (!_ledger.IsRunning) return;
        foreach (var trial in running) await TrialGrainFor(trial).Start(trial);
        await RunAsync();
    }

    public async Task<SweepChanges> Start(SweepSpec spec)
    {
        if (spec.Name != Name) throw new ArgumentException($"spec name '{spec.Name}' does not match sweep '{Name}'.");
        Admission admission;
        try { admission = _ledger.Admit(spec, artifacts.Value.DataRoots); }
        catch (AdmissionRejectedException e) { throw new SpecRejectedException(e.Message); }
        if (admission == Admission.Unchanged) return await Standing();
        if (admission == Admission.Extended) logger.LogInformation("Extending sweep {Sweep}: {Cells} new cells", Name, _ledger.AddedCells);
        if (admission == Admission.Created) { await PersistAsync(); await GrainFactory.GetGrain<ISweepRegistryGrain>(0).Register(spec.Name); }
        await RunAsync();
        return await Standing();
    }

    public async Task<SweepSnapshot> Resume()
    {
        if (_ledger.Spec is null) throw new ArgumentException($"sweep '{Name}' does not exist.");
        if (_ledger.ResumeStopped()) await RunAsync();
        return await _records!.SnapshotAsync();
    }

    /// <summary>Supervision on, free slots filled, and the state durable before the caller hears back.</summary>
    private async Task RunAsync()
    {
        await StartSupervisionAsync();
        await DispatchAsync();
        await PersistAsync();
    }

    public Task Pause() => StopAsync(_ledger.Pause);

    public Task Cancel() => StopAsync(_ledger.Cancel);

    /// <summary>Each running trial checkpoints, stops and reports "cancelled" (a paused sweep takes that as "pending").</summary>
    private async Task StopAsync(Func<IReadOnlyList<string>> stop)
    {
        if (!_ledger.IsRunning) return;
        var running = stop();
        await PersistAsync();
        foreach (string trialId in running) await TrialGrainFor(_ledger.Trial(trialId)).Cancel();
    }

    public Task<SweepSnapshot> GetSnapshot() => _records!.SnapshotAsync();

    /// <summary>Where the sweep stands, without results.</summary>
    private Task<SweepChanges> Standing() => _records!.ChangesAsync(long.MaxValue, _ledger.State.SpecFingerprint, 1);

    public Task<SweepChanges> GetChanges(long afterSequence, string? knownSpecFingerprint, int limit) =>
        _records!.ChangesAsync(afterSequence, knownSpecFingerprint, limit);

    public Task ReportProgress(string trialId, EpochMetrics metrics) { _ledger.Progress(trialId, metrics, Now); return Task.CompletedTask; }

    public Task RenewLease(string trialId) { _ledger.Heartbeat(trialId, Now); return Task.CompletedTask; }

    public async Task ReportResult(TrialResult result)
    {
        int recorded = _ledger.Recorded;
        var outcome = _ledger.Report(result, Now);
        if (_ledger.Recorded > recorded) metrics.Result(Name, result.Status);
        if (outcome == ReportOutcome.Duplicate)
        {
            // Exactly once: a repeated report changes no result. It may repeat because our write of the first one failed
            // (the store was unreachable): acknowledge it only once that result is durable. The refusal is counted and
            // kept, so a second run of a trial is visible (a rare write).
            await _records!.EnsureDurableAsync();
            await PersistAsync();
            return;
        }
        if (_ledger.AnalysisDue) _ledger.PlanAnalysis(await _records!.ResultsAsync()); // the grid ended: plan its interpolations
        await DispatchAsync();
        await PersistAsync(); // the result is durable before this call returns
    }

    /// <summary>The reminder only has to activate the sweep: activation resumes whatever was running.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) => _ledger.IsRunning ? Task.CompletedTask : ForgetWakeUpAsync();

    private async Task ForgetWakeUpAsync()
    {
        if (!Settings.UseReminders) return;
        var reminder = await this.GetReminder(WakeUpReminder);
        if (reminder is not null) await this.UnregisterReminder(reminder);
    }

    private async Task StartSupervisionAsync()
    {
        if (Settings.UseReminders) await this.RegisterOrUpdateReminder(WakeUpReminder, Settings.ReminderPeriod, Settings.ReminderPeriod);
        if (_supervisor is not null) return;
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(50).Ticks, Settings.LeaseDuration.Ticks / 4));
        // KeepAlive: a running sweep stays active to watch its leases and wake its back-offs.
        _supervisor = this.RegisterGrainTimer(SuperviseAsync, new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    /// <summary>Expires lost trials' leases and dispatches trials whose back-off is over.</summary>
    private async Task SuperviseAsync()
    {
        if (!_ledger.IsRunning)
        {
            _supervisor?.Dispose();
            _supervisor = null;
            if (_ledger.Status is SweepState.Completed or SweepState.Cancelled) await ForgetWakeUpAsync();
            return;
        }
        int expired = _ledger.ExpireLeases(Now).Count;
        metrics.LeasesExpired(Name, expired);
        int started = await DispatchAsync();
        if (expired > 0 || started > 0) await PersistAsync();
    }

    /// <summary>
    /// Starts what the ledger hands out. Callers persist afterwards: a trial started but not yet durably "running" is
    /// harmless (starting it again is idempotent, and it resumes from its checkpoint), and not waiting for a write here
    /// keeps devices busy while results are saved. Returns how many were handed out.
    /// </summary>
    private async Task<int> DispatchAsync()
    {
        var toStart = _ledger.TakeDispatchable(capacity.DeviceSlots, Now);
        var failures = await Task.WhenAll(toStart.Select(async trial =>
        {
            try { await TrialGrainFor(trial).Start(trial); return null; }
            catch (Exception e) { return ((string TrialId, string Reason)?)(trial.TrialId, $"could not be started ({e.GetType().Name}: {e.Message})"); }
        }));
        foreach (var (trialId, reason) in failures.OfType<(string, string)>()) _ledger.StartFailed(trialId, reason, Now);
        return toStart.Count;
    }

    /// <summary>Persist before acknowledging (records, then state; see <see cref="SweepRecords"/>).</summary>
    private async Task PersistAsync()
    {
        try
        {
            await _records!.PersistAsync();
            int running = _ledger.Running.Count, finished = _ledger.Recorded;
            metrics.Trials(Name, Math.Max(0, _ledger.TotalTrials - running - finished), running, finished);
        }
        catch (InconsistentStateException)
        {
            // Another activation of this sweep wrote since we read (a silo was lost and the directory briefly held
            // two): ours is stale. Step aside; the next call activates afresh from the stored state.
            this.DeactivateOnIdle();
            throw;
        }
    }

    private ITrialGrain TrialGrainFor(TrialSpec trial) => GrainFactory.GetGrain<ITrialGrain>(ITrialGrain.KeyFor(trial.SweepName, trial.TrialId));
}
