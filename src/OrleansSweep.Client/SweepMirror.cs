using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Client;

/// <summary>
/// A reader's copy of a sweep, kept current by applying what changed (<see cref="SweepChanges"/>): the results it has
/// seen, up to <see cref="LastSequence"/>, and the latest small rest (state, running trials, failures). Polling through a
/// mirror transfers only what is new; <see cref="ToSnapshot"/> gives the same picture as a full snapshot. The grid is
/// implied by the spec (<see cref="GridLayout"/>): every cell not finished or running is pending.
/// </summary>
public sealed class SweepMirror(string name)
{
    private readonly Dictionary<string, TrialResult> _results = new();
    private SweepChanges? _latest;
    private GridLayout? _layout;

    public string Name { get; } = name;
    /// <summary>The sequence of the last result record seen: ask for what came after it.</summary>
    public long LastSequence { get; private set; }
    public string? SpecFingerprint { get; private set; }
    public SweepSpec? Spec { get; private set; }
    /// <summary>Results seen so far, by trial (cancelled outcomes aside).</summary>
    public IReadOnlyDictionary<string, TrialResult> Results => _results;

    /// <summary>Whether every result the sweep had recorded at the last look is here.</summary>
    public bool IsCaughtUp => _latest is { More: false } latest && _results.Count >= latest.Recorded;

    /// <summary>
    /// Starts from what a reader kept of an earlier look (a pulled study): the spec and results it had, up to
    /// <paramref name="lastSequence"/>; the next changes asked for are those after it.
    /// </summary>
    public void Seed(SweepSpec spec, string specFingerprint, long lastSequence, IEnumerable<TrialResult> results)
    {
        Spec = spec;
        _layout = new GridLayout(spec);
        SpecFingerprint = specFingerprint;
        LastSequence = lastSequence;
        foreach (var result in results.Where(r => r.Status is TrialStatus.Completed or TrialStatus.Diverged or TrialStatus.Failed))
            _results[result.TrialId] = result;
    }

    /// <summary>Takes a page of changes; returns the results it added (in recording order).</summary>
    public IReadOnlyList<RecordedResult> Apply(SweepChanges changes)
    {
        if (changes.Spec is not null)
        {
            Spec = changes.Spec;
            _layout = new GridLayout(changes.Spec);
        }
        SpecFingerprint = changes.SpecFingerprint;
        var added = new List<RecordedResult>();
        foreach (var record in changes.Results)
        {
            if (record.Sequence <= LastSequence) continue; // a page asked twice (a retried call)
            if (_results.TryAdd(record.Result.TrialId, record.Result)) added.Add(record);
            LastSequence = record.Sequence;
        }
        _latest = changes;
        return added;
    }

    /// <summary>The sweep as of the last change applied: every trial's status and every result seen.</summary>
    public SweepSnapshot ToSnapshot()
    {
        if (_latest is null) return new SweepSnapshot { Name = Name, State = Core.Sweeps.SweepState.NotStarted };
        var statuses = new Dictionary<string, TrialStatus>(_latest.TotalTrials);
        if (_layout is not null)
            for (int i = 0; i < _layout.Count; i++) statuses[_layout.TrialIdAt(i)] = TrialStatus.Pending;
        foreach (string job in _latest.AnalysisJobs) statuses[job] = TrialStatus.Pending;
        foreach (string running in _latest.RunningTrials) statuses[running] = TrialStatus.Running;
        var results = new Dictionary<string, TrialResult>(_results);
        foreach (var (trialId, cancelled) in _latest.Cancelled) { results.TryAdd(trialId, cancelled); statuses[trialId] = TrialStatus.Cancelled; }
        foreach (var (trialId, result) in _results) statuses[trialId] = result.Status;
        return new SweepSnapshot
        {
            Name = Name,
            State = _latest.State,
            Spec = Spec,
            TotalTrials = _latest.TotalTrials,
            Statuses = statuses,
            Results = results,
            Running = _latest.Progress,
            TransientFailures = _latest.TransientFailures,
        };
    }
}
