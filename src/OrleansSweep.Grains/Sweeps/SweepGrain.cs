using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Grains.Placement;
using Orleans.Storage;

namespace OrleansSweep.Grains.Sweeps;

/// <summary>
/// Owns one sweep: validates and expands the spec, keeps up to the concurrency limit of trials running in grid order,
/// records each result exactly once (persisting before acknowledging), and finishes when every cell has a result.
/// Each running trial holds a lease renewed by its heartbeats and progress; an expired lease or a transient failure
/// sends the trial back to pending after a back-off (bounded attempts), to resume from its checkpoint on any silo.
/// Divergence is a result and deterministic failures are recorded at once: neither is retried.
/// </summary>
public sealed class SweepGrain(
    [PersistentState("sweep", SweepOptions.StorageName)] IPersistentState<SweepGrainState> state,
    IOptions<SweepOptions> options,
    IOptions<Trials.ArtifactOptions> artifacts,
    ClusterCapacity capacity,
    ILogger<SweepGrain> logger) : Grain, ISweepGrain, IRemindable
{
    private const string WakeUpReminder = "wake-up";

    private List<TrialSpec> _trials = [];
    private int _gridSize;
    // Derived from S.Statuses, so dispatch costs O(log n) per trial rather than a scan of the grid.
    private readonly Dictionary<string, int> _gridIndex = new();
    private readonly SortedSet<int> _pending = new();
    private readonly HashSet<string> _running = new();
    private readonly Dictionary<string, TrialProgress> _progress = new();
    private readonly Dictionary<string, DateTime> _leaseExpiry = new();
    private readonly Random _jitter = new();
    private IGrainTimer? _supervisor;
    private CoalescingStateWriter? _writer;

    private SweepGrainState S => state.State;

    /// <summary>Persist before acknowledging, with concurrent changes sharing one write (see <see cref="CoalescingStateWriter"/>).</summary>
    private async Task PersistAsync()
    {
        try
        {
            await (_writer ??= new CoalescingStateWriter(() => state.WriteStateAsync())).WriteAsync();
        }
        catch (InconsistentStateException)
        {
            // Another activation of this sweep wrote since we read (a silo was lost and the directory briefly held
            // two): ours is stale. Step aside; the next call activates afresh from the stored state.
            this.DeactivateOnIdle();
            throw;
        }
    }
    private SweepOptions O => options.Value;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ResumeAfterActivationAsync();
        }
        catch (InconsistentStateException)
        {
            // A stale activation elsewhere wrote in between: read the newest state and take over from it.
            await state.ReadStateAsync();
            _writer = null;
            await ResumeAfterActivationAsync();
        }
    }

    private async Task ResumeAfterActivationAsync()
    {
        if (S.Spec is null) return;
        LoadTrials(S.Spec);
        if (S.State == SweepState.Running)
        {
            // After a restart: trials marked running may have lost their silo. Starting them again is safe: a trial
            // grain that is still training ignores it, one that finished re-reports its result, a new one resumes
            // from the trial's checkpoint.
            foreach (var trial in _trials.Where(t => S.Statuses[t.TrialId] == TrialStatus.Running).ToList())
            {
                RenewLeaseOf(trial.TrialId);
                await TrialGrainFor(trial).Start(trial);
            }
            await StartSupervisionAsync();
            await DispatchAsync();
            await PersistAsync();
        }
    }

    public async Task<SweepSnapshot> Start(SweepSpec spec)
    {
        var errors = SpecValidator.Validate(spec);
        if (PathContainment.DatasetViolation(spec.Dataset, artifacts.Value.DataRoots) is { } violation) errors = [.. errors, violation];
        if (errors.Count > 0) throw new SpecRejectedException(new SpecException($"sweep '{spec.Name}'", errors).Message);
        if (spec.Name != this.GetPrimaryKeyString())
            throw new ArgumentException($"spec name '{spec.Name}' does not match sweep '{this.GetPrimaryKeyString()}'.");
        string fingerprint = SpecFingerprint.Compute(spec);
        if (S.Spec is not null)
        {
            // The stored fingerprint was computed by the version that started the sweep; the stored spec, fingerprinted
            // again by this version, tells a real difference from a change in the canonical form between versions.
            if (S.SpecFingerprint != fingerprint && SpecFingerprint.Compute(S.Spec) != fingerprint)
                throw new SpecRejectedException(
                    $"sweep '{spec.Name}': already exists with a different spec; choose another name (or delete its study) to run this one.");
            if (S.State is SweepState.Cancelled or SweepState.Paused) await ResumeStoppedAsync();
            return Snapshot();
        }

        S.Spec = spec;
        S.SpecFingerprint = fingerprint;
        S.State = SweepState.Running;
        S.Statuses = GridExpander.Expand(spec).ToDictionary(t => t.TrialId, _ => TrialStatus.Pending);
        LoadTrials(spec);
        await PersistAsync();
        await GrainFactory.GetGrain<ISweepRegistryGrain>(0).Register(spec.Name);
        await StartSupervisionAsync();
        await DispatchAsync();
        await PersistAsync();
        return Snapshot();
    }

    public async Task<SweepSnapshot> Resume()
    {
        if (S.Spec is null) throw new ArgumentException($"sweep '{this.GetPrimaryKeyString()}' does not exist.");
        if (S.State is SweepState.Cancelled or SweepState.Paused) await ResumeStoppedAsync();
        return Snapshot();
    }

    public async Task Pause()
    {
        if (S.State != SweepState.Running) return;
        S.State = SweepState.Paused;
        await PersistAsync();
        // Each running trial checkpoints, stops, and reports "cancelled"; a paused sweep takes that as "pending".
        foreach (var trialId in _running.ToList())
            await GrainFactory.GetGrain<ITrialGrain>(ITrialGrain.KeyFor(S.Spec!.Name, trialId)).Cancel();
    }

    /// <summary>A paused or cancelled sweep continues: its stopped trials run again (from their checkpoints).</summary>
    private async Task ResumeStoppedAsync()
    {
        foreach (var id in S.Results.Where(r => r.Value.Status == TrialStatus.Cancelled).Select(r => r.Key).ToList())
            S.Results.Remove(id);
        foreach (var id in S.Statuses.Where(s => s.Value is TrialStatus.Cancelled or TrialStatus.Running && !S.Results.ContainsKey(s.Key))
                     .Select(s => s.Key).ToList())
            SetStatus(id, TrialStatus.Pending);
        S.State = S.Results.Count == _trials.Count ? SweepState.Completed : SweepState.Running;
        await StartSupervisionAsync();
        await DispatchAsync();
        await PersistAsync();
    }

    public Task<SweepSnapshot> GetSnapshot() => Task.FromResult(Snapshot());

    public Task ReportProgress(string trialId, EpochMetrics metrics)
    {
        if (S.Statuses.GetValueOrDefault(trialId) == TrialStatus.Running && S.Spec is not null)
        {
            _progress[trialId] = new TrialProgress(trialId, metrics.Epoch, S.Spec.Training.Epochs, metrics);
            RenewLeaseOf(trialId);
        }
        return Task.CompletedTask;
    }

    public Task RenewLease(string trialId)
    {
        if (S.Statuses.GetValueOrDefault(trialId) == TrialStatus.Running) RenewLeaseOf(trialId);
        return Task.CompletedTask;
    }

    public async Task ReportResult(TrialResult result)
    {
        if (!S.Statuses.TryGetValue(result.TrialId, out var status))
            throw new ArgumentException($"sweep '{this.GetPrimaryKeyString()}' has no trial '{result.TrialId}'.");
        if (S.Results.ContainsKey(result.TrialId))
        {
            // Exactly once: a repeated report changes nothing. It may repeat because our write of the first one failed
            // (the store was unreachable): acknowledge it only once that result is durable.
            if (_writer is not null) await _writer.EnsureDurableAsync();
            return;
        }

        if (result.Status == TrialStatus.Cancelled && S.State != SweepState.Cancelled)
        {
            // Paused, or stopped without the sweep asking (its silo shut down): run it again later, from its checkpoint.
            if (status == TrialStatus.Running) SetStatus(result.TrialId, TrialStatus.Pending);
        }
        else if (result is { Status: TrialStatus.Failed, FailureKind: FailureKind.Transient })
        {
            if (status == TrialStatus.Running) RecordTransientFailure(result.TrialId, result.FailureReason ?? "transient failure");
        }
        else
        {
            Record(result);
        }
        ForgetRunning(result.TrialId);
        await DispatchAsync();
        await PersistAsync(); // the result is durable before this call returns
    }

    public async Task Cancel()
    {
        if (S.State != SweepState.Running) return;
        S.State = SweepState.Cancelled;
        await PersistAsync();
        foreach (var trialId in _running.ToList())
            await GrainFactory.GetGrain<ITrialGrain>(ITrialGrain.KeyFor(S.Spec!.Name, trialId)).Cancel();
    }

    private void Record(TrialResult result)
    {
        var recorded = result with { Attempts = S.TransientFailures.GetValueOrDefault(result.TrialId) + 1 };
        SetStatus(result.TrialId, recorded.Status);
        S.Results[result.TrialId] = recorded;
        S.NotBefore.Remove(result.TrialId);
        PlanAnalysisOnceTheGridEnded();
        if (S.State == SweepState.Running && S.Results.Count == _trials.Count) S.State = SweepState.Completed;
    }

    /// <summary>
    /// Interpolations name cells by their results ("the best LR of batch 16"), so they are planned when the last grid
    /// trial ends; they then run like trials (leases, retries, exactly-once results). One that cannot run (its cell
    /// diverged) is recorded as failed with the reason.
    /// </summary>
    private void PlanAnalysisOnceTheGridEnded()
    {
        if (S.AnalysisPlanned || S.Spec?.Analysis is not { Interpolations.Count: > 0 } || S.Results.Count < _gridSize) return;
        S.AnalysisPlanned = true;
        foreach (var planned in InterpolationPlanner.Plan(S.Spec, S.Results))
        {
            S.AnalysisJobs.Add(planned.Job);
            _gridIndex[planned.Job.TrialId] = _trials.Count;
            _trials.Add(planned.Job);
            SetStatus(planned.Job.TrialId, TrialStatus.Pending);
            if (planned.Problem is not null)
            {
                SetStatus(planned.Job.TrialId, TrialStatus.Failed);
                S.Results[planned.Job.TrialId] = new TrialResult
                {
                    TrialId = planned.Job.TrialId, Status = TrialStatus.Failed, FailureKind = FailureKind.Deterministic, FailureReason = planned.Problem,
                };
            }
        }
    }

    /// <summary>Back to pending after a back-off, or failed for good once the attempts are spent.</summary>
    private void RecordTransientFailure(string trialId, string reason)
    {
        int failures = S.TransientFailures.GetValueOrDefault(trialId) + 1;
        S.TransientFailures[trialId] = failures;
        if (O.Retry.AllowsAnotherAttempt(failures))
        {
            var delay = O.Retry.DelayAfter(failures, _jitter);
            SetStatus(trialId, TrialStatus.Pending);
            S.NotBefore[trialId] = DateTime.UtcNow + delay;
            logger.LogWarning("Trial {Trial}: {Reason}; retrying in {Delay:F1} s (attempt {Next} of {Max})",
                trialId, reason, delay.TotalSeconds, failures + 1, O.Retry.MaxAttempts);
        }
        else
        {
            S.TransientFailures[trialId] = failures - 1; // Record counts this attempt
            Record(new TrialResult
            {
                TrialId = trialId, Status = TrialStatus.Failed, FailureKind = FailureKind.Transient,
                FailureReason = $"{reason} (gave up after {failures} attempts)",
            });
        }
    }

    /// <summary>The reminder only has to activate the sweep: activation resumes whatever was running.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        S.State == SweepState.Running ? Task.CompletedTask : ForgetWakeUpAsync();

    private async Task ForgetWakeUpAsync()
    {
        if (!O.UseReminders) return;
        var reminder = await this.GetReminder(WakeUpReminder);
        if (reminder is not null) await this.UnregisterReminder(reminder);
    }

    private async Task StartSupervisionAsync()
    {
        if (O.UseReminders) await this.RegisterOrUpdateReminder(WakeUpReminder, O.ReminderPeriod, O.ReminderPeriod);
        if (_supervisor is not null) return;
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(50).Ticks, O.LeaseDuration.Ticks / 4));
        // KeepAlive: a running sweep stays active to watch its leases and wake its back-offs.
        _supervisor = this.RegisterGrainTimer(SuperviseAsync, new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    /// <summary>Expires lost trials' leases and dispatches trials whose back-off is over.</summary>
    private async Task SuperviseAsync()
    {
        if (S.State != SweepState.Running)
        {
            _supervisor?.Dispose();
            _supervisor = null;
            if (S.State is SweepState.Completed or SweepState.Cancelled) await ForgetWakeUpAsync();
            return;
        }
        var now = DateTime.UtcNow;
        var expired = _running.Where(id => _leaseExpiry.GetValueOrDefault(id, DateTime.MaxValue) < now).ToList();
        foreach (string trialId in expired)
        {
            ForgetRunning(trialId);
            RecordTransientFailure(trialId, $"lease expired: no heartbeat for {O.LeaseDuration.TotalSeconds:F0} s (its silo may be lost)");
        }
        int runningBefore = _running.Count;
        await DispatchAsync();
        if (expired.Count > 0 || _running.Count != runningBefore) await PersistAsync();
    }

    /// <summary>
    /// Starts pending trials whose back-off is over, in grid order, until the concurrency limit is reached. Callers
    /// persist afterwards: a trial started but not yet durably "running" is harmless (starting it again is idempotent,
    /// and it resumes from its checkpoint), and not waiting for a write here keeps devices busy while results are saved.
    /// </summary>
    private async Task DispatchAsync()
    {
        if (S.State != SweepState.Running || S.Spec is null) return;
        // As many running trials as the cluster has device slots (silos joining mid-sweep add theirs), unless the spec caps it.
        int clusterSlots = capacity.DeviceSlots;
        int limit = S.Spec.Execution.MaxConcurrentTrials ?? (clusterSlots > 0 ? clusterSlots : O.DefaultMaxConcurrentTrials);
        if (_running.Count >= limit) return;
        var now = DateTime.UtcNow;
        var toStart = new List<TrialSpec>();
        foreach (int index in _pending)
        {
            if (toStart.Count >= limit - _running.Count) break;
            var trial = _trials[index];
            if (S.NotBefore.GetValueOrDefault(trial.TrialId, DateTime.MinValue) <= now) toStart.Add(trial);
        }
        if (toStart.Count == 0) return;
        foreach (var trial in toStart)
        {
            SetStatus(trial.TrialId, TrialStatus.Running);
            S.NotBefore.Remove(trial.TrialId);
            RenewLeaseOf(trial.TrialId);
        }
        var starts = toStart.Select(async t =>
        {
            try { await TrialGrainFor(t).Start(t); return ((string, string)?)null; }
            catch (Exception e) { return (t.TrialId, $"could not be started ({e.GetType().Name}: {e.Message})"); }
        }).ToList();
        var failed = (await Task.WhenAll(starts)).Where(f => f is not null).Select(f => f!.Value).ToList();
        if (failed.Count == 0) return;
        foreach (var (trialId, reason) in failed)
        {
            ForgetRunning(trialId);
            RecordTransientFailure(trialId, reason);
        }
    }

    private void LoadTrials(SweepSpec spec)
    {
        _trials = [.. GridExpander.Expand(spec)];
        _gridSize = _trials.Count;
        _trials.AddRange(S.AnalysisJobs);
        _gridIndex.Clear(); _pending.Clear(); _running.Clear();
        for (int i = 0; i < _trials.Count; i++) _gridIndex[_trials[i].TrialId] = i;
        foreach (var (id, status) in S.Statuses) Track(id, status);
    }

    /// <summary>Every status change goes through here, keeping the dispatch indexes in step with the persisted statuses.</summary>
    private void SetStatus(string trialId, TrialStatus status)
    {
        S.Statuses[trialId] = status;
        _pending.Remove(_gridIndex[trialId]);
        _running.Remove(trialId);
        Track(trialId, status);
    }

    private void Track(string trialId, TrialStatus status)
    {
        if (status == TrialStatus.Pending) _pending.Add(_gridIndex[trialId]);
        else if (status == TrialStatus.Running) _running.Add(trialId);
    }

    private void RenewLeaseOf(string trialId) => _leaseExpiry[trialId] = DateTime.UtcNow + O.LeaseDuration;

    private void ForgetRunning(string trialId)
    {
        _progress.Remove(trialId);
        _leaseExpiry.Remove(trialId);
    }

    private ITrialGrain TrialGrainFor(TrialSpec trial) =>
        GrainFactory.GetGrain<ITrialGrain>(ITrialGrain.KeyFor(trial.SweepName, trial.TrialId));

    private SweepSnapshot Snapshot() => new()
    {
        Name = this.GetPrimaryKeyString(),
        State = S.State,
        Spec = S.Spec,
        TotalTrials = _trials.Count,
        Statuses = new Dictionary<string, TrialStatus>(S.Statuses),
        Results = new Dictionary<string, TrialResult>(S.Results),
        Running = _progress.Values.ToList(),
        TransientFailures = new Dictionary<string, int>(S.TransientFailures),
    };
}
