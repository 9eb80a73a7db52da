using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Sweeps;

/// <summary>
/// A sweep's durable side, for its grain: the spec (only when it changed: created or grown), the result log and the
/// compact state, written in that order, with concurrent changes sharing one write (<see cref="CoalescingStateWriter"/>).
/// The spec goes first, so the state never names a spec that is not stored; records go before the state: a record
/// without the state that follows it is found by the next activation (the ledger is rebuilt from both); a record whose
/// append failed stays here and goes with the next write. No write's size depends on how many results exist or on
/// the spec's length. Single-threaded like its grain.
/// </summary>
public sealed class SweepRecords(IPersistentState<SweepGrainState> state, IPersistentState<SweepSpecState> specState, ITrialResultLog log, string sweep)
{
    private CoalescingStateWriter? _writer;
    private readonly List<TrialResult> _unappended = new();
    private SweepLedger? _ledger;

    /// <summary>
    /// The ledger as stored: the compact state (a format-1 state is migrated: its results become records, appended by
    /// the first write) and the log's (trial, status) pairs.
    /// </summary>
    public async Task<SweepLedger> OpenAsync(SweepLedgerSettings settings, bool rereadState)
    {
        if (rereadState)
        {
            await state.ReadStateAsync();
            await specState.ReadStateAsync();
            _writer = null;
            _unappended.Clear();
        }
        // Formats 1 and 2 kept the spec in the state: it is used from there until the first write stores it apart.
        var stored = state.State;
        stored.Spec = specState.State.Spec ?? stored.StoredSpec;
        if (specState.State.SpecFingerprint is { } fingerprint) stored.SpecFingerprint = fingerprint;
        if (stored.NeedsMigration) _unappended.AddRange(stored.MigrateToResultLog());
        var recorded = state.State.Spec is null ? [] : await log.ReadTrialsAsync(sweep);
        _ledger = new SweepLedger(state.State, settings, recorded.Concat(_unappended.Select(r => new RecordedTrial(r.TrialId, r.Status))));
        return _ledger;
    }

    public bool HasUnwrittenRecords => _unappended.Count > 0;

    /// <summary>New records to the log, then the state; returns once every change so far is durable.</summary>
    public Task PersistAsync() => (_writer ??= new CoalescingStateWriter(WriteAsync)).WriteAsync();

    /// <summary>Returns once every change so far is durable, writing again only if one is not (a failed write).</summary>
    public Task EnsureDurableAsync() => _writer?.EnsureDurableAsync() ?? Task.CompletedTask;

    private async Task WriteAsync()
    {
        var current = state.State;
        if (current.SpecFingerprint != specState.State.SpecFingerprint || specState.State.Spec is null && current.Spec is not null)
        {
            specState.State = new SweepSpecState { Spec = current.Spec, SpecFingerprint = current.SpecFingerprint };
            await specState.WriteStateAsync();
        }
        (current.StoredSpec, current.FormatVersion) = (null, SweepGrainState.CurrentFormat);
        _unappended.AddRange(_ledger!.DrainRecords());
        if (_unappended.Count > 0)
        {
            var batch = _unappended.ToList();
            await log.AppendAsync(sweep, batch);
            _unappended.RemoveRange(0, batch.Count);
        }
        await state.WriteStateAsync();
    }

    /// <summary>The grid's results, for planning its interpolations (after this call's records are durable).</summary>
    public async Task<IReadOnlyDictionary<string, TrialResult>> ResultsAsync()
    {
        await PersistAsync();
        return (await log.ReadAsync(sweep)).ToDictionary(r => r.Result.TrialId, r => r.Result);
    }

    /// <summary>
    /// The sweep as of this call. Its state is taken before the log is read: a write interleaving with the read may
    /// append records meanwhile, and the results not yet in the log are taken with the state, so none goes missing.
    /// </summary>
    public async Task<SweepSnapshot> SnapshotAsync()
    {
        var ledger = _ledger!;
        var now = ledger.Snapshot(sweep, [.. _unappended, .. ledger.PeekRecords()]);
        if (ledger.Spec is null) return now;
        var results = (await ReadLogAsync(0, int.MaxValue)).ToDictionary(r => r.Result.TrialId, r => r.Result);
        foreach (var (trialId, result) in now.Results) results.TryAdd(trialId, result);
        return now with { Results = results };
    }

    /// <summary>
    /// What changed since <paramref name="afterSequence"/>: the small rest taken first, then the log's records after it
    /// (a record appended meanwhile is either in this page or in <see cref="SweepChanges.Recorded"/>, so the reader
    /// knows to ask again).
    /// </summary>
    public async Task<SweepChanges> ChangesAsync(long afterSequence, string? knownSpecFingerprint, int limit)
    {
        var ledger = _ledger!;
        var state = ledger.State;
        int epochs = state.Spec?.Training.Epochs ?? 0;
        var changes = new SweepChanges
        {
            Name = sweep,
            State = state.State,
            SpecFingerprint = state.SpecFingerprint,
            Spec = knownSpecFingerprint == state.SpecFingerprint ? null : state.Spec,
            TotalTrials = ledger.TotalTrials,
            Recorded = ledger.Recorded,
            RunningTrials = [.. ledger.Running],
            Progress = [.. ledger.LatestProgress.Select(p => new TrialProgress(p.Key, p.Value.Epoch, epochs, p.Value))],
            TransientFailures = new Dictionary<string, int>(state.TransientFailures),
            DuplicateReports = new Dictionary<string, int>(state.DuplicateReports),
            Cancelled = new Dictionary<string, TrialResult>(state.Cancelled),
            AnalysisJobs = [.. state.AnalysisJobs.Select(j => j.TrialId)],
        };
        if (state.Spec is null) return changes;
        limit = Math.Clamp(limit, 1, MaxChangesPage);
        var page = await ReadLogAsync(afterSequence, limit + 1);
        return changes with { Results = page.Take(limit).ToList(), More = page.Count > limit };
    }

    /// <summary>A read for a reader: a store that does not answer just now is said so, for the reader to ask again.</summary>
    private async Task<IReadOnlyList<RecordedResult>> ReadLogAsync(long afterSequence, int limit)
    {
        try { return await log.ReadAsync(sweep, afterSequence, limit); }
        catch (Exception e) when (e is not (OperationCanceledException or SweepStateUnreadableException))
        {
            throw new SweepStoreUnavailableException($"sweep '{sweep}': its result log did not answer ({e.GetType().Name}: {e.Message})");
        }
    }

    /// <summary>Records per answer at most: a reader far behind catches up in pages of bounded size.</summary>
    public const int MaxChangesPage = 2000;
}
