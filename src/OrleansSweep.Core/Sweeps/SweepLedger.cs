using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Sweeps;

/// <summary>How <see cref="SweepLedger.Admit"/> took a spec.</summary>
public enum Admission
{
    /// <summary>A new sweep: the grid is laid out, every cell pending.</summary>
    Created,
    /// <summary>The same spec again: nothing changes (starting a sweep is idempotent).</summary>
    Unchanged,
    /// <summary>The same spec of a paused or cancelled sweep: it runs again.</summary>
    Resumed,
}

/// <summary>How <see cref="SweepLedger.Report"/> took a trial's report.</summary>
public enum ReportOutcome
{
    /// <summary>Recorded, requeued or retried: the state changed and must be persisted before acknowledging.</summary>
    Changed,
    /// <summary>Already recorded: exactly once, so nothing changed (the first report's write must still be durable).</summary>
    Duplicate,
}

/// <summary>A transient failure that sends a trial back to pending after <paramref name="Delay"/> (null: gave up).</summary>
public sealed record RetryNotice(string TrialId, string Reason, TimeSpan? Delay, int NextAttempt, int MaxAttempts);

/// <summary>A spec the ledger refuses: another spec under an existing sweep's name, or one that fails validation.</summary>
public sealed class AdmissionRejectedException(string message) : UserErrorException(message);

/// <summary>
/// One sweep's bookkeeping as a pure state machine: admits its spec, lays out the grid (once), hands out the next
/// trials to dispatch in grid order within the concurrency limit, records each result exactly once, requeues stopped
/// trials, backs off and bounds transient failures, expires the leases of lost trials, and plans the analysis jobs
/// once the grid has ended. Time is passed in, so every rule is a millisecond unit test; the sweep grain adds storage,
/// timers, reminders and grain calls. Changes are made to <see cref="ISweepLedgerState"/> in place: the caller
/// persists it before acknowledging.
/// </summary>
public sealed class SweepLedger
{
    private readonly ISweepLedgerState _state;
    private readonly SweepLedgerSettings _settings;
    private readonly Random _jitter;

    // The grid in dispatch order (analysis jobs after it) and indexes derived from the persisted statuses, so dispatch
    // costs O(log n) per trial rather than a scan of the grid.
    private List<TrialSpec> _trials = [];
    private int _gridSize;
    private readonly Dictionary<string, int> _gridIndex = new();
    private readonly SortedSet<int> _pending = new();
    private readonly HashSet<string> _running = new();
    private readonly Dictionary<string, DateTime> _leaseExpiry = new();
    private readonly Dictionary<string, EpochMetrics> _latest = new();

    public SweepLedger(ISweepLedgerState state, SweepLedgerSettings settings, Random? jitter = null)
    {
        _state = state;
        _settings = settings;
        _jitter = jitter ?? new Random();
        if (state.Spec is not null) LayOut(state.Spec);
    }

    /// <summary>Says when a transient failure is retried or given up (for the log).</summary>
    public event Action<RetryNotice>? RetryScheduled;

    public ISweepLedgerState State => _state;
    public SweepSpec? Spec => _state.Spec;
    public SweepState Status => _state.State;
    public bool IsRunning => _state.State == SweepState.Running;
    /// <summary>Grid cells plus the analysis jobs planned so far.</summary>
    public int TotalTrials => _trials.Count;
    public IReadOnlyCollection<string> Running => _running;
    /// <summary>The latest epoch of each running trial that has reported one.</summary>
    public IReadOnlyDictionary<string, EpochMetrics> LatestProgress => _latest;
    public TrialSpec Trial(string trialId) => _trials[_gridIndex[trialId]];

    /// <summary>
    /// Takes a spec: a new sweep is laid out with every cell pending; the same spec again changes nothing (or resumes a
    /// paused or cancelled sweep); another spec under the name is refused. <paramref name="dataRoots"/>: where the
    /// dataset may lie (a spec from a client must not make silos read elsewhere); null: anywhere (the embedded run).
    /// </summary>
    public Admission Admit(SweepSpec spec, IReadOnlyList<string>? dataRoots)
    {
        var errors = SpecValidator.Validate(spec);
        if (PathContainment.DatasetViolation(spec.Dataset, dataRoots) is { } violation) errors = [.. errors, violation];
        if (errors.Count > 0) throw new AdmissionRejectedException(new SpecException($"sweep '{spec.Name}'", errors).Message);
        string fingerprint = SpecFingerprint.Compute(spec);
        if (_state.Spec is not null)
        {
            // The stored fingerprint was computed by the version that started the sweep; the stored spec, fingerprinted
            // again by this version, tells a real difference from a change in the canonical form between versions.
            if (_state.SpecFingerprint != fingerprint && SpecFingerprint.Compute(_state.Spec) != fingerprint)
                throw new AdmissionRejectedException(
                    $"sweep '{spec.Name}': already exists with a different spec; choose another name (or delete its study) to run this one.");
            if (_state.State is not (SweepState.Cancelled or SweepState.Paused)) return Admission.Unchanged;
            ResumeStopped();
            return Admission.Resumed;
        }
        _state.Spec = spec;
        _state.SpecFingerprint = fingerprint;
        _state.State = SweepState.Running;
        var grid = GridExpander.Expand(spec);
        _state.Statuses = grid.ToDictionary(t => t.TrialId, _ => TrialStatus.Pending);
        LayOut(spec, grid);
        return Admission.Created;
    }

    /// <summary>A paused or cancelled sweep continues: its stopped trials are pending again (they resume from checkpoints).</summary>
    public bool ResumeStopped()
    {
        if (_state.State is not (SweepState.Cancelled or SweepState.Paused)) return false;
        foreach (var id in _state.Results.Where(r => r.Value.Status == TrialStatus.Cancelled).Select(r => r.Key).ToList())
            _state.Results.Remove(id);
        foreach (var id in _state.Statuses.Where(s => s.Value is TrialStatus.Cancelled or TrialStatus.Running && !_state.Results.ContainsKey(s.Key))
                     .Select(s => s.Key).ToList())
            SetStatus(id, TrialStatus.Pending);
        _state.State = _state.Results.Count == _trials.Count ? SweepState.Completed : SweepState.Running;
        return true;
    }

    /// <summary>Stops handing out trials; returns the running ones, which the caller asks to stop at their next step.</summary>
    public IReadOnlyList<string> Pause() => Stop(SweepState.Paused);

    /// <summary>Like <see cref="Pause"/>, but the running trials' "cancelled" reports are recorded as results.</summary>
    public IReadOnlyList<string> Cancel() => Stop(SweepState.Cancelled);

    private IReadOnlyList<string> Stop(SweepState state)
    {
        if (_state.State != SweepState.Running) return [];
        _state.State = state;
        return [.. _running];
    }

    /// <summary>
    /// The concurrency limit: the spec's cap, else the cluster's device slots (a silo joining mid-sweep adds its own),
    /// else the configured default.
    /// </summary>
    public int ConcurrencyLimit(int clusterDeviceSlots) =>
        _state.Spec?.Execution.MaxConcurrentTrials ?? (clusterDeviceSlots > 0 ? clusterDeviceSlots : _settings.DefaultMaxConcurrentTrials);

    /// <summary>
    /// The pending trials to start now, in grid order, whose back-off is over, up to the concurrency limit; each is
    /// marked running with a fresh lease. Starting a trial twice is harmless (it resumes from its checkpoint), so the
    /// caller may start them before persisting.
    /// </summary>
    public IReadOnlyList<TrialSpec> TakeDispatchable(int clusterDeviceSlots, DateTime now)
    {
        if (_state.State != SweepState.Running || _state.Spec is null) return [];
        int free = ConcurrencyLimit(clusterDeviceSlots) - _running.Count;
        var toStart = new List<TrialSpec>();
        foreach (int index in _pending)
        {
            if (toStart.Count >= free) break;
            var trial = _trials[index];
            if (_state.NotBefore.GetValueOrDefault(trial.TrialId, DateTime.MinValue) <= now) toStart.Add(trial);
        }
        foreach (var trial in toStart)
        {
            SetStatus(trial.TrialId, TrialStatus.Running);
            _state.NotBefore.Remove(trial.TrialId);
            RenewLease(trial.TrialId, now);
        }
        return toStart;
    }

    /// <summary>A trial could not be started (its grain unreachable): a transient failure like any other.</summary>
    public void StartFailed(string trialId, string reason, DateTime now)
    {
        ForgetRunning(trialId);
        RecordTransientFailure(trialId, reason, now);
    }

    /// <summary>After a restart: the trials marked running, each with a fresh lease, to be started again.</summary>
    public IReadOnlyList<TrialSpec> RestartRunning(DateTime now)
    {
        if (_state.State != SweepState.Running) return [];
        var running = _trials.Where(t => _state.Statuses[t.TrialId] == TrialStatus.Running).ToList();
        foreach (var trial in running) RenewLease(trial.TrialId, now);
        return running;
    }

    /// <summary>A running trial finished an epoch: its progress, and its lease renewed.</summary>
    public void Progress(string trialId, EpochMetrics metrics, DateTime now)
    {
        if (_state.Statuses.GetValueOrDefault(trialId) != TrialStatus.Running || _state.Spec is null) return;
        _latest[trialId] = metrics;
        RenewLease(trialId, now);
    }

    /// <summary>A training trial is alive (heartbeat).</summary>
    public void Heartbeat(string trialId, DateTime now)
    {
        if (_state.Statuses.GetValueOrDefault(trialId) == TrialStatus.Running) RenewLease(trialId, now);
    }

    /// <summary>
    /// A trial ended. Recorded exactly once; a "cancelled" report of a sweep that was not cancelled (paused, or the
    /// trial's silo shut down) puts it back to pending; a transient failure is retried after a back-off, or recorded
    /// as failed once the attempts are spent; anything else (completed, diverged, deterministic failure) is the result.
    /// </summary>
    public ReportOutcome Report(TrialResult result, DateTime now)
    {
        if (!_state.Statuses.TryGetValue(result.TrialId, out var status))
            throw new ArgumentException($"sweep '{_state.Spec?.Name}' has no trial '{result.TrialId}'.");
        if (_state.Results.ContainsKey(result.TrialId)) return ReportOutcome.Duplicate;

        if (result.Status == TrialStatus.Cancelled && _state.State != SweepState.Cancelled)
        {
            if (status == TrialStatus.Running) SetStatus(result.TrialId, TrialStatus.Pending);
        }
        else if (result is { Status: TrialStatus.Failed, FailureKind: FailureKind.Transient })
        {
            if (status == TrialStatus.Running) RecordTransientFailure(result.TrialId, result.FailureReason ?? "transient failure", now);
        }
        else
        {
            Record(result);
        }
        ForgetRunning(result.TrialId);
        return ReportOutcome.Changed;
    }

    /// <summary>Running trials whose lease ran out (their silo is presumed lost) go back through the retry path.</summary>
    public IReadOnlyList<string> ExpireLeases(DateTime now)
    {
        var expired = _running.Where(id => _leaseExpiry.GetValueOrDefault(id, DateTime.MaxValue) < now).ToList();
        foreach (string trialId in expired)
        {
            ForgetRunning(trialId);
            RecordTransientFailure(trialId, $"lease expired: no heartbeat for {_settings.LeaseDuration.TotalSeconds:F0} s (its silo may be lost)", now);
        }
        return expired;
    }

    private void Record(TrialResult result)
    {
        var recorded = result.WithNonFiniteMetricsAsDivergence() with { Attempts = _state.TransientFailures.GetValueOrDefault(result.TrialId) + 1 };
        SetStatus(result.TrialId, recorded.Status);
        _state.Results[result.TrialId] = recorded;
        _state.NotBefore.Remove(result.TrialId);
        PlanAnalysisOnceTheGridEnded();
        if (_state.State == SweepState.Running && _state.Results.Count == _trials.Count) _state.State = SweepState.Completed;
    }

    /// <summary>
    /// Interpolations name cells by their results ("the best LR of batch 16"), so they are planned when the last grid
    /// trial ends; they then run like trials (leases, retries, exactly-once results). One that cannot run (its cell
    /// diverged) is recorded as failed with the reason.
    /// </summary>
    private void PlanAnalysisOnceTheGridEnded()
    {
        if (_state.AnalysisPlanned || _state.Spec?.Analysis is not { Interpolations.Count: > 0 } || _state.Results.Count < _gridSize) return;
        _state.AnalysisPlanned = true;
        foreach (var planned in InterpolationPlanner.Plan(_state.Spec, _state.Results))
        {
            _state.AnalysisJobs.Add(planned.Job);
            _gridIndex[planned.Job.TrialId] = _trials.Count;
            _trials.Add(planned.Job);
            SetStatus(planned.Job.TrialId, TrialStatus.Pending);
            if (planned.Problem is null) continue;
            SetStatus(planned.Job.TrialId, TrialStatus.Failed);
            _state.Results[planned.Job.TrialId] = new TrialResult
            {
                TrialId = planned.Job.TrialId, Status = TrialStatus.Failed, FailureKind = FailureKind.Deterministic, FailureReason = planned.Problem,
            };
        }
    }

    /// <summary>Back to pending after a back-off, or failed for good once the attempts are spent.</summary>
    private void RecordTransientFailure(string trialId, string reason, DateTime now)
    {
        var retry = _settings.Retry;
        int failures = _state.TransientFailures.GetValueOrDefault(trialId) + 1;
        _state.TransientFailures[trialId] = failures;
        if (retry.AllowsAnotherAttempt(failures))
        {
            var delay = retry.DelayAfter(failures, _jitter);
            SetStatus(trialId, TrialStatus.Pending);
            _state.NotBefore[trialId] = now + delay;
            RetryScheduled?.Invoke(new RetryNotice(trialId, reason, delay, failures + 1, retry.MaxAttempts));
            return;
        }
        _state.TransientFailures[trialId] = failures - 1; // Record counts this attempt
        RetryScheduled?.Invoke(new RetryNotice(trialId, reason, null, failures, retry.MaxAttempts));
        Record(new TrialResult
        {
            TrialId = trialId, Status = TrialStatus.Failed, FailureKind = FailureKind.Transient,
            FailureReason = $"{reason} (gave up after {failures} attempts)",
        });
    }

    /// <summary>The grid expanded once, plus the analysis jobs already planned, with indexes from the persisted statuses.</summary>
    private void LayOut(SweepSpec spec, IReadOnlyList<TrialSpec>? grid = null)
    {
        _trials = [.. grid ?? GridExpander.Expand(spec)];
        _gridSize = _trials.Count;
        _trials.AddRange(_state.AnalysisJobs);
        _gridIndex.Clear(); _pending.Clear(); _running.Clear();
        for (int i = 0; i < _trials.Count; i++) _gridIndex[_trials[i].TrialId] = i;
        foreach (var (id, status) in _state.Statuses) Track(id, status);
    }

    /// <summary>Every status change goes through here, keeping the dispatch indexes in step with the persisted statuses.</summary>
    private void SetStatus(string trialId, TrialStatus status)
    {
        _state.Statuses[trialId] = status;
        _pending.Remove(_gridIndex[trialId]);
        _running.Remove(trialId);
        Track(trialId, status);
    }

    private void Track(string trialId, TrialStatus status)
    {
        if (status == TrialStatus.Pending) _pending.Add(_gridIndex[trialId]);
        else if (status == TrialStatus.Running) _running.Add(trialId);
    }

    private void RenewLease(string trialId, DateTime now) => _leaseExpiry[trialId] = now + _settings.LeaseDuration;

    private void ForgetRunning(string trialId)
    {
        _latest.Remove(trialId);
        _leaseExpiry.Remove(trialId);
    }
}
