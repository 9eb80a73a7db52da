using System.Collections.Immutable;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Client;

/// <summary>
/// A reader's copy of a sweep, kept current by applying what changed (<see cref="SweepChanges"/>): the results it has
/// seen, up to <see cref="LastSequence"/>, and the latest small rest (state, running trials, failures). Polling through a
/// mirror transfers only what is new, and applying a page costs what the page holds: the status of every cell is kept
/// and only the cells a page touches are updated. <see cref="ToSnapshot"/> gives the same picture as a full snapshot
/// without copying it (the dictionaries are immutable, so an earlier snapshot keeps showing its moment). The grid is
/// implied by the spec (<see cref="GridLayout"/>): every cell not finished, running or cancelled is pending.
/// </summary>
public sealed class SweepMirror(string name)
{
    private readonly ImmutableDictionary<string, TrialResult>.Builder _results = ImmutableDictionary.CreateBuilder<string, TrialResult>(StringComparer.Ordinal);
    private readonly ImmutableDictionary<string, TrialStatus>.Builder _statuses = ImmutableDictionary.CreateBuilder<string, TrialStatus>(StringComparer.Ordinal);
    private HashSet<string> _running = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, TrialResult> _cancelled = new Dictionary<string, TrialResult>();
    private SweepChanges? _latest;
    private GridLayout? _layout;
    private string? _layoutFingerprint;

    public string Name { get; } = name;
    /// <summary>The sequence of the last result record seen: ask for what came after it.</summary>
    public long LastSequence { get; private set; }
    public string? SpecFingerprint { get; private set; }
    public SweepSpec? Spec { get; private set; }
    /// <summary>Results seen so far, by trial (cancelled outcomes aside).</summary>
    public IReadOnlyDictionary<string, TrialResult> Results => _results;
    /// <summary>The sweep's state at the last look (not started before one).</summary>
    public Core.Sweeps.SweepState State => _latest?.State ?? Core.Sweeps.SweepState.NotStarted;
    /// <summary>Grid cells plus the analysis jobs planned so far, at the last look.</summary>
    public int TotalTrials => _latest?.TotalTrials ?? _layout?.Count ?? 0;
    /// <summary>How many trials were running at the last look.</summary>
    public int RunningCount => _running.Count;

    /// <summary>Whether every result the sweep had recorded at the last look is here.</summary>
    public bool IsCaughtUp => _latest is { More: false } latest && _results.Count >= latest.Recorded;

    /// <summary>
    /// Starts from what a reader kept of an earlier look (a pulled study): the spec and results it had, up to
    /// <paramref name="lastSequence"/>; the next changes asked for are those after it.
    /// </summary>
    public void Seed(SweepSpec spec, string specFingerprint, long lastSequence, IEnumerable<TrialResult> results)
    {
        TakeSpec(spec, specFingerprint);
        LastSequence = lastSequence;
        foreach (var result in results.Where(r => r.Status is TrialStatus.Completed or TrialStatus.Diverged or TrialStatus.Failed))
        {
            _results[result.TrialId] = result;
            _statuses[result.TrialId] = result.Status;
        }
    }

    /// <summary>Takes a page of changes; returns the results it added (in recording order).</summary>
    public IReadOnlyList<RecordedResult> Apply(SweepChanges changes)
    {
        if (changes.Spec is not null) TakeSpec(changes.Spec, changes.SpecFingerprint);
        SpecFingerprint = changes.SpecFingerprint;
        var added = new List<RecordedResult>();
        foreach (var record in changes.Results)
        {
            if (record.Sequence <= LastSequence) continue; // a page asked twice (a retried call)
            if (_results.TryAdd(record.Result.TrialId, record.Result))
            {
                added.Add(record);
                _statuses[record.Result.TrialId] = record.Result.Status;
            }
            LastSequence = record.Sequence;
        }

        // Only the cells whose running or cancelled standing changed, or that appeared, are looked at again.
        var running = new HashSet<string>(changes.RunningTrials, StringComparer.Ordinal);
        var touched = new HashSet<string>(running, StringComparer.Ordinal);
        touched.UnionWith(_running);
        touched.UnionWith(_cancelled.Keys);
        touched.UnionWith(changes.Cancelled.Keys);
        touched.UnionWith(changes.AnalysisJobs);
        (_running, _cancelled, _latest) = (running, changes.Cancelled, changes);
        foreach (string trialId in touched) _statuses[trialId] = StatusOf(trialId);
        return added;
    }

    /// <summary>A result's status outranks a cancellation, which outranks running; anything else is pending.</summary>
    private TrialStatus StatusOf(string trialId) =>
        _results.TryGetValue(trialId, out var result) ? result.Status
        : _cancelled.ContainsKey(trialId) ? TrialStatus.Cancelled
        : _running.Contains(trialId) ? TrialStatus.Running
        : TrialStatus.Pending;

    /// <summary>A new spec (the first look, or the grid grew): the cells it adds are pending.</summary>
    private void TakeSpec(SweepSpec spec, string? fingerprint)
    {
        Spec = spec;
        SpecFingerprint = fingerprint;
        if (_layout is not null && fingerprint is not null && fingerprint == _layoutFingerprint) return;
        (_layout, _layoutFingerprint) = (new GridLayout(spec), fingerprint);
        for (int i = 0; i < _layout.Count; i++) _statuses.TryAdd(_layout.TrialIdAt(i), TrialStatus.Pending);
    }

    /// <summary>The sweep as of the last change applied: every trial's status and every result seen.</summary>
    public SweepSnapshot ToSnapshot()
    {
        if (_latest is null) return new SweepSnapshot { Name = Name, State = Core.Sweeps.SweepState.NotStarted };
        var results = _results.ToImmutable();
        foreach (var (trialId, cancelled) in _cancelled)
            if (!results.ContainsKey(trialId)) results = results.Add(trialId, cancelled);
        return new SweepSnapshot
        {
            Name = Name,
            State = _latest.State,
            Spec = Spec,
            TotalTrials = _latest.TotalTrials,
            Statuses = _statuses.ToImmutable(),
            Results = results,
            Running = _latest.Progress,
            TransientFailures = _latest.TransientFailures,
            DuplicateReports = _latest.DuplicateReports,
        };
    }
}
