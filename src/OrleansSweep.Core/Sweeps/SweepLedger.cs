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
    /// <summary>The stored spec with values added to grid axes: only the new cells run (<see cref="SweepLedger.AddedCells"/>).</summary>
    Extended,
}

/// <summary>How <see cref="SweepLedger.Report"/> took a trial's report.</summary>
public enum ReportOutcome
{
    /// <summary>Recorded, requeued or retried: the state changed and must be persisted before acknowledging.</summary>
    Changed,
    /// <summary>
    /// Already recorded: exactly once, so the result stands as first recorded (that write must still be durable); only
    /// the count of refused reports (<see cref="ISweepLedgerState.DuplicateReports"/>) grew.
    /// </summary>
    Duplicate,
}

/// <summary>A transient failure that sends a trial back to pending after <paramref name="Delay"/> (null: gave up).</summary>
public sealed record RetryNotice(string TrialId, string Reason, TimeSpan? Delay, int NextAttempt, int MaxAttempts);

/// <summary>A spec the ledger refuses: another spec under an existing sweep's name, or one that fails validation.</summary>
public sealed class AdmissionRejectedException(string message) : UserErrorException(message);

/// <summary>
/// One sweep's bookkeeping as a pure state machine: admits its spec (or an extension of it), hands out the next trials
/// to dispatch (costliest first within each seed round) within the concurrency limit, records each result exactly once, requeues stopped trials,
/// backs off and bounds transient failures, expires the leases of lost trials, and plans the analysis jobs once the
/// grid has ended. Time is passed in, so every rule is a millisecond unit test; the sweep grain adds storage, timers,
/// reminders and grain calls.
/// </summary>
/// <remarks>
/// A result is not kept here: each one becomes a record (<see cref="DrainRecords"/>) that the caller appends to the
/// sweep's result log, once per trial, before it persists <see cref="ISweepLedgerState"/> and acknowledges. After a
/// restart the ledger is rebuilt from that compact state and the log's (trial, status) pairs. The grid is implied by the
/// spec (<see cref="GridLayout"/>): in memory there is one status per cell and a cursor, so a million cells cost a few
/// megabytes, and no write's size depends on how many results exist.
/// </remarks>
public sealed class SweepLedger
{
    private readonly ISweepLedgerState _state;
    private readonly SweepLedgerSettings _settings;
    private readonly Random _jitter;

    private GridLayout? _layout;
    // One status per trial: grid cells first (in dispatch order), then the analysis jobs.
    private TrialStatus[] _status = [];
    private int _gridSize;
    private readonly Dictionary<string, int> _jobIndex = new();
    private int _recorded, _recordedInGrid;
    // Dispatch in the layout's dispatch order (GridLayout.DispatchCell; analysis jobs after the grid, in plan order): every
    // pending trial at or after the cursor's position has not been handed out yet; pending trials before it (retries,
    // stopped ones) wait in _requeued, by position.
    private int _cursor;
    private readonly SortedSet<int> _requeued = new();
    private readonly Dictionary<string, DateTime> _leaseExpiry = new();
    private readonly Dictionary<string, EpochMetrics> _latest = new();
    private readonly List<TrialResult> _records = new();

    /// <param name="recorded">The sweep's result records so far (trial and status), as its result log holds them.</param>
    public SweepLedger(ISweepLedgerState state, SweepLedgerSettings settings, IEnumerable<RecordedTrial>? recorded = null, Random? jitter = null)
    {
        _state = state;
        _settings = settings;
        _jitter = jitter ?? new Random();
        if (state.Spec is not null) LayOut(state.Spec, recorded ?? []);
    }

    /// <summary>Says when a transient failure is retried or given up (for the log).</summary>
    public event Action<RetryNotice>? RetryScheduled;

    public ISweepLedgerState State => _state;
    public SweepSpec? Spec => _state.Spec;
    public SweepState Status => _state.State;
    public bool IsRunning => _state.State == SweepState.Running;
    /// <summary>Grid cells plus the analysis jobs planned so far.</summary>
    public int TotalTrials => _status.Length;
    /// <summary>Trials with a result record (completed, diverged, failed).</summary>
    public int Recorded => _recorded;
    public IReadOnlyCollection<string> Running => _state.Running;
    /// <summary>The latest epoch of each running trial that has reported one.</summary>
    public IReadOnlyDictionary<string, EpochMetrics> LatestProgress => _latest;
    /// <summary>Cells added by the last <see cref="Admission.Extended"/> admission.</summary>
    public int AddedCells { get; private set; }

    /// <summary>
    /// The grid has ended and its interpolations wait to be planned from its results: the caller reads the grid's
    /// results from the log and passes them to <see cref="PlanAnalysis"/>.
    /// </summary>
    public bool AnalysisDue =>
        !_state.AnalysisPlanned && _state.Spec?.Analysis is { Interpolations.Count: > 0 } && _gridSize > 0 && _recordedInGrid == _gridSize;

    public TrialSpec Trial(string trialId) => TrialAt(IndexOf(trialId) ?? throw new ArgumentException($"sweep '{_state.Spec?.Name}' has no trial '{trialId}'."));

    public TrialStatus? StatusOf(string trialId) => IndexOf(trialId) is int index ? _status[index] : null;

    /// <summary>Every trial and its status, in dispatch order (for snapshots; costs one id per trial).</summary>
    public IEnumerable<(string TrialId, TrialStatus Status)> Statuses()
    {
        for (int i = 0; i < _status.Length; i++) yield return (IdAt(i), _status[i]);
    }

    /// <summary>The result records not drained yet (a snapshot shows them before they are written).</summary>
    public IReadOnlyList<TrialResult> PeekRecords() => _records;

    /// <summary>The result records made since the last call, for the caller to append to the sweep's result log.</summary>
    public IReadOnlyList<TrialResult> DrainRecords()
    {
        var drained = _records.ToList();
        _records.Clear();
        return drained;
    }

    /// <summary>
    /// Takes a spec: a new sweep is laid out with every cell pending; the same spec again changes nothing (or resumes a
    /// paused or cancelled sweep); the stored spec with values added to grid axes extends the sweep (only the new cells
    /// run); any other spec under the name is refused, naming what differs. <paramref name="dataRoots"/>: where the
    /// dataset may lie (a spec from a client must not make silos read elsewhere); null: anywhere (the embedded run).
    /// </summary>
    public Admission Admit(SweepSpec spec, IReadOnlyList<string>? dataRoots)
    {
        var errors = SpecValidator.Validate(spec);
        if (PathContainment.DatasetViolation(spec.Dataset, dataRoots) is { } violation) errors = [.. errors, violation];
        if (errors.Count > 0) throw new AdmissionRejectedException(new SpecException($"sweep '{spec.Name}'", errors).Message);
        string fingerprint = SpecFingerprint.Compute(spec);
        if (_state.Spec is { } stored)
        {
            // The stored fingerprint was computed by the version that started the sweep; the stored spec, fingerprinted
            // again by this version, tells a real difference from a change in the canonical form between versions.
            if (_state.SpecFingerprint == fingerprint || SpecFingerprint.Compute(stored) == fingerprint)
            {
                if (_state.State is not (SweepState.Cancelled or SweepState.Paused)) return Admission.Unchanged;
                ResumeStopped();
                return Admission.Resumed;
            }
            Extend(stored, spec, fingerprint);
            return Admission.Extended;
        }
        _state.Spec = spec;
        _state.SpecFingerprint = fingerprint;
        _state.State = SweepState.Running;
        LayOut(spec, []);
        return Admission.Created;
    }

    /// <summary>The stored spec grows by grid values: the layout is redone by trial id, so every recorded result keeps its cell.</summary>
    private void Extend(SweepSpec stored, SweepSpec spec, string fingerprint)
    {
        if (GridExtension.Differences(stored, spec) is { Count: > 0 } differences)
            throw new AdmissionRejectedException(
                $"sweep '{spec.Name}': already exists with a different spec ({string.Join("; ", differences)}); only values added to grid " +
                "axes extend a sweep. Choose another name (or delete its study) to run this one.");
        if (_state.AnalysisPlanned)
            throw new AdmissionRejectedException(
                $"sweep '{spec.Name}': its interpolations were planned from the finished grid, so the grid cannot grow; run the larger grid under another name.");
        var recorded = Statuses().Where(s => s.Status is TrialStatus.Completed or TrialStatus.Diverged or TrialStatus.Failed)
            .Select(s => new RecordedTrial(s.TrialId, s.Status)).ToList();
        int before = _gridSize;
        _state.Spec = spec;
        _state.SpecFingerprint = fingerprint;
        LayOut(spec, recorded);
        AddedCells = _gridSize - before;
        if (_state.State is SweepState.Completed) _state.State = SweepState.Running;
        else if (_state.State is SweepState.Cancelled or SweepState.Paused) ResumeStopped();
    }

    /// <summary>A paused or cancelled sweep continues: its stopped trials are pending again (they resume from checkpoints).</summary>
    public bool ResumeStopped()
    {
        if (_state.State is not (SweepState.Cancelled or SweepState.Paused)) return false;
        _state.Cancelled.Clear();
        for (int i = 0; i < _status.Length; i++)
            if (_status[i] is TrialStatus.Cancelled or TrialStatus.Running) SetStatus(i, TrialStatus.Pending);
        _state.State = SweepState.Running;
        CompleteWhenAllRecorded();
        return true;
    }

    /// <summary>Stops handing out trials; returns the running ones, which the caller asks to stop at their next step.</summary>
    public IReadOnlyList<string> Pause() => Stop(SweepState.Paused);

    /// <summary>Like <see cref="Pause"/>, but the running trials' "cancelled" reports are kept (as cancelled, not results).</summary>
    public IReadOnlyList<string> Cancel() => Stop(SweepState.Cancelled);

    private IReadOnlyList<string> Stop(SweepState state)
    {
        if (_state.State != SweepState.Running) return [];
        _state.State = state;
        return [.. _state.Running];
    }

    /// <summary>
    /// The concurrency limit: the spec's cap, else the cluster's device slots (a silo joining mid-sweep adds its own),
    /// else the configured default.
    /// </summary>
    public int ConcurrencyLimit(int clusterDeviceSlots) =>
        _state.Spec?.Execution.MaxConcurrentTrials ?? (clusterDeviceSlots > 0 ? clusterDeviceSlots : _settings.DefaultMaxConcurrentTrials);

    /// <summary>
    /// The pending trials to start now, in dispatch order (<see cref="GridLayout.DispatchCell"/>), whose back-off is over, up to the concurrency limit; each is
    /// marked running with a fresh lease. Starting a trial twice is harmless (it resumes from its checkpoint), so the
    /// caller may start them before persisting.
    /// </summary>
    public IReadOnlyList<TrialSpec> TakeDispatchable(int clusterDeviceSlots, DateTime now)
    {
        if (_state.State != SweepState.Running || _state.Spec is null) return [];
        int free = ConcurrencyLimit(clusterDeviceSlots) - _state.Running.Count;
        if (free <= 0) return [];
        var chosen = new List<int>();
        // Requeued trials lie before the cursor, so taking them first keeps dispatch order.
        foreach (int position in _requeued)
        {
            if (chosen.Count >= free) break;
            if (Ready(IndexAt(position), now)) chosen.Add(IndexAt(position));
        }
        while (chosen.Count < free && _cursor < _status.Length)
        {
            int position = _cursor++, index = IndexAt(position);
            if (_status[index] != TrialStatus.Pending) continue;
            if (Ready(index, now)) chosen.Add(index);
            else _requeued.Add(position); // backing off: passed by, waits behind the cursor
        }
        var toStart = new List<TrialSpec>(chosen.Count);
        foreach (int index in chosen)
        {
            var trial = TrialAt(index);
            SetStatus(index, TrialStatus.Running);
            _state.NotBefore.Remove(trial.TrialId);
            RenewLease(trial.TrialId, now);
            toStart.Add(trial);
        }
        return toStart;
    }

    private bool Ready(int index, DateTime now) => _state.NotBefore.Count == 0 || _state.NotBefore.GetValueOrDefault(IdAt(index), DateTime.MinValue) <= now;

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
        var running = _state.Running.Select(id => IndexOf(id)).OfType<int>().Order().Select(TrialAt).ToList();
        foreach (var trial in running) RenewLease(trial.TrialId, now);
        return running;
    }

    /// <summary>A running trial finished an epoch: its progress, and its lease renewed.</summary>
    public void Progress(string trialId, EpochMetrics metrics, DateTime now)
    {
        if (StatusOf(trialId) != TrialStatus.Running) return;
        _latest[trialId] = metrics;
        RenewLease(trialId, now);
    }

    /// <summary>A training trial is alive (heartbeat).</summary>
    public void Heartbeat(string trialId, DateTime now)
    {
        if (StatusOf(trialId) == TrialStatus.Running) RenewLease(trialId, now);
    }

    /// <summary>
    /// A trial ended. Recorded exactly once; a "cancelled" report of a sweep that was not cancelled (paused, or the
    /// trial's silo shut down) puts it back to pending; a transient failure is retried after a back-off, or recorded
    /// as failed once the attempts are spent; anything else (completed, diverged, deterministic failure) is the result.
    /// </summary>
    public ReportOutcome Report(TrialResult result, DateTime now)
    {
        int index = IndexOf(result.TrialId) ?? throw new ArgumentException($"sweep '{_state.Spec?.Name}' has no trial '{result.TrialId}'.");
        var status = _status[index];
        if (IsRecorded(status) || _state.Cancelled.ContainsKey(result.TrialId))
        {
            if (IsRecorded(status) && result.Status != TrialStatus.Cancelled)
                _state.DuplicateReports[result.TrialId] = _state.DuplicateReports.GetValueOrDefault(result.TrialId) + 1;
            return ReportOutcome.Duplicate;
        }

        if (result.Status == TrialStatus.Cancelled)
        {
            if (_state.State == SweepState.Cancelled)
            {
                _state.Cancelled[result.TrialId] = result;
                SetStatus(index, TrialStatus.Cancelled);
            }
            else if (status == TrialStatus.Running) SetStatus(index, TrialStatus.Pending);
        }
        else if (result is { Status: TrialStatus.Failed, FailureKind: FailureKind.Transient })
        {
            if (status == TrialStatus.Running) RecordTransientFailure(result.TrialId, result.FailureReason ?? "transient failure", now);
        }
        else
        {
            Record(index, result);
        }
        ForgetRunning(result.TrialId);
        return ReportOutcome.Changed;
    }

    /// <summary>Running trials whose lease ran out (their silo is presumed lost) go back through the retry path.</summary>
    public IReadOnlyList<string> ExpireLeases(DateTime now)
    {
        var expired = _state.Running.Where(id => _leaseExpiry.GetValueOrDefault(id, DateTime.MaxValue) < now).ToList();
        foreach (string trialId in expired)
        {
            ForgetRunning(trialId);
            RecordTransientFailure(trialId, $"lease expired: no heartbeat for {_settings.LeaseDuration.TotalSeconds:F0} s (its silo may be lost)", now);
        }
        return expired;
    }

    /// <summary>
    /// Interpolations name cells by their results ("the best LR of batch 16"), so they are planned when the last grid
    /// trial ends (<see cref="AnalysisDue"/>), from the grid's results; they then run like trials (leases, retries,
    /// exactly-once results). One that cannot run (its cell diverged) is recorded as failed with the reason.
    /// </summary>
    public void PlanAnalysis(IReadOnlyDictionary<string, TrialResult> gridResults)
    {
        if (!AnalysisDue) return;
        _state.AnalysisPlanned = true;
        foreach (var planned in InterpolationPlanner.Plan(_state.Spec!, gridResults))
        {
            _state.AnalysisJobs.Add(planned.Job);
            int index = AddJob(planned.Job);
            if (planned.Problem is null) continue;
            Record(index, new TrialResult
            {
                TrialId = planned.Job.TrialId, Status = TrialStatus.Failed, FailureKind = FailureKind.Deterministic, FailureReason = planned.Problem,
            });
        }
        CompleteWhenAllRecorded();
    }

    private void Record(int index, TrialResult result)
    {
        var recorded = result.WithNonFiniteMetricsAsDivergence() with { Attempts = _state.TransientFailures.GetValueOrDefault(result.TrialId) + 1 };
        SetStatus(index, recorded.Status);
        _recorded++;
        if (index < _gridSize) _recordedInGrid++;
        _records.Add(recorded);
        _state.NotBefore.Remove(result.TrialId);
        CompleteWhenAllRecorded();
    }

    private void CompleteWhenAllRecorded()
    {
        if (_state.State == SweepState.Running && !AnalysisDue && _recorded == _status.Length) _state.State = SweepState.Completed;
    }

    /// <summary>Back to pending after a back-off, or failed for good once the attempts are spent.</summary>
    private void RecordTransientFailure(string trialId, string reason, DateTime now)
    {
        int index = IndexOf(trialId)!.Value;
        var retry = _settings.Retry;
        int failures = _state.TransientFailures.GetValueOrDefault(trialId) + 1;
        _state.TransientFailures[trialId] = failures;
        if (retry.AllowsAnotherAttempt(failures))
        {
            var delay = retry.DelayAfter(failures, _jitter);
            _state.NotBefore[trialId] = now + delay;
            SetStatus(index, TrialStatus.Pending);
            RetryScheduled?.Invoke(new RetryNotice(trialId, reason, delay, failures + 1, retry.MaxAttempts));
            return;
        }
        _state.TransientFailures[trialId] = failures - 1; // Record counts this attempt
        RetryScheduled?.Invoke(new RetryNotice(trialId, reason, null, failures, retry.MaxAttempts));
        Record(index, new TrialResult
        {
            TrialId = trialId, Status = TrialStatus.Failed, FailureKind = FailureKind.Transient,
            FailureReason = $"{reason} (gave up after {failures} attempts)",
        });
    }

    /// <summary>The grid (implied by the spec), the analysis jobs already planned, and each trial's status from the records and the state.</summary>
    private void LayOut(SweepSpec spec, IEnumerable<RecordedTrial> recorded)
    {
        _layout = new GridLayout(spec);
        _gridSize = _layout.Count;
        _status = new TrialStatus[_gridSize]; // TrialStatus.Pending is 0
        _jobIndex.Clear(); _requeued.Clear();
        _cursor = 0; _recorded = 0; _recordedInGrid = 0;
        foreach (var job in _state.AnalysisJobs) AddJob(job);
        foreach (var (trialId, status) in recorded)
        {
            if (IndexOf(trialId) is not int index || IsRecorded(_status[index]) || !IsRecorded(status)) continue;
            _status[index] = status;
            _recorded++;
            if (index < _gridSize) _recordedInGrid++;
        }
        foreach (var trialId in _state.Cancelled.Keys.ToList())
            if (IndexOf(trialId) is int index && !IsRecorded(_status[index])) _status[index] = TrialStatus.Cancelled;
            else _state.Cancelled.Remove(trialId);
        // A trial recorded after the state was last written (the process died in between) is no longer running.
        _state.Running.RemoveWhere(id => IndexOf(id) is not int index || _status[index] != TrialStatus.Pending);
        foreach (string trialId in _state.Running) _status[IndexOf(trialId)!.Value] = TrialStatus.Running;
    }

    private int AddJob(TrialSpec job)
    {
        int index = _status.Length;
        Array.Resize(ref _status, index + 1);
        _jobIndex[job.TrialId] = index;
        return index;
    }

    private static bool IsRecorded(TrialStatus status) => status is TrialStatus.Completed or TrialStatus.Diverged or TrialStatus.Failed;

    private int? IndexOf(string trialId)
    {
        if (_layout is not null && _layout.TryIndexOf(trialId, out int cell)) return cell;
        return _jobIndex.TryGetValue(trialId, out int job) ? job : null;
    }

    private string IdAt(int index) => index < _gridSize ? _layout!.TrialIdAt(index) : _state.AnalysisJobs[index - _gridSize].TrialId;

    private TrialSpec TrialAt(int index) => index < _gridSize ? _layout!.TrialAt(index) : _state.AnalysisJobs[index - _gridSize];

    /// <summary>Every status change goes through here, keeping the running set and the dispatch order in step.</summary>
    private void SetStatus(int index, TrialStatus status)
    {
        string trialId = IdAt(index);
        _status[index] = status;
        int position = PositionOf(index);
        _requeued.Remove(position);
        if (status == TrialStatus.Running) _state.Running.Add(trialId);
        else _state.Running.Remove(trialId);
        if (status == TrialStatus.Pending && position < _cursor) _requeued.Add(position);
    }

    /// <summary>The trial dispatched <paramref name="position"/>-th: a grid cell in the layout's order, then the analysis jobs.</summary>
    private int IndexAt(int position) => position < _gridSize ? _layout!.DispatchCell(position) : position;

    private int PositionOf(int index) => index < _gridSize ? _layout!.DispatchPosition(index) : index;

    private void RenewLease(string trialId, DateTime now) => _leaseExpiry[trialId] = now + _settings.LeaseDuration;

    private void ForgetRunning(string trialId)
    {
        _latest.Remove(trialId);
        _leaseExpiry.Remove(trialId);
    }
}
