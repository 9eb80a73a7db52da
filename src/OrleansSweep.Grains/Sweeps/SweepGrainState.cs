using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Sweeps;

/// <summary>
/// What a sweep persists besides its result records (<see cref="ISweepLedgerState"/>: the ledger's compact state).
/// Fields carry [Id]s so later versions can read it; the [Id]s are the stored format, never renumbered.
/// </summary>
/// <remarks>
/// Format 1 (until the result log) kept every trial's status and every result in this one value; such a state is
/// migrated when its sweep activates (<see cref="SweepGrain"/>): its results become records, its running trials the
/// running set, and the two fields are emptied.
/// </remarks>
[GenerateSerializer]
public sealed class SweepGrainState : ISweepLedgerState
{
    public const int CurrentFormat = 3;

    [Id(0)] public int FormatVersion { get; set; } = CurrentFormat;
    /// <summary>
    /// Formats 1 and 2 only: the spec. Since format 3 it is kept in its own state (<see cref="SweepSpecState"/>), written
    /// when the sweep is created or grows, because a spec with long lists (a million cells) rewritten with every change
    /// made each write's size grow with the grid.
    /// </summary>
    [Id(1)] public SweepSpec? StoredSpec { get; set; }
    /// <summary>The sweep's spec, in memory (from <see cref="SweepSpecState"/>; not part of this state's stored form).</summary>
    public SweepSpec? Spec { get => _spec; set => _spec = value; }
    [NonSerialized] private SweepSpec? _spec;
    [Id(2)] public string? SpecFingerprint { get; set; }
    [Id(3)] public SweepState State { get; set; } = SweepState.NotStarted;
    /// <summary>Format 1 only: every trial's status.</summary>
    [Id(4)] public Dictionary<string, TrialStatus> LegacyStatuses { get; set; } = new();
    /// <summary>Format 1 only: every result.</summary>
    [Id(5)] public Dictionary<string, TrialResult> LegacyResults { get; set; } = new();
    /// <summary>Transient failures so far, per trial.</summary>
    [Id(6)] public Dictionary<string, int> TransientFailures { get; set; } = new();
    /// <summary>Earliest time a pending trial may be dispatched again (its back-off after a transient failure).</summary>
    [Id(7)] public Dictionary<string, DateTime> NotBefore { get; set; } = new();
    /// <summary>Jobs planned once the grid ended (interpolations between cells); they run like trials, after the grid.</summary>
    [Id(8)] public List<TrialSpec> AnalysisJobs { get; set; } = new();
    [Id(9)] public bool AnalysisPlanned { get; set; }
    [Id(10)] public HashSet<string> Running { get; set; } = new();
    [Id(11)] public Dictionary<string, TrialResult> Cancelled { get; set; } = new();
    /// <summary>Final reports refused because the trial already had its result, per trial (only trials that had one).</summary>
    [Id(12)] public Dictionary<string, int> DuplicateReports { get; set; } = new();

    /// <summary>
    /// A format-1 state in the current format: its results (cancelled ones aside) returned for the result log, its
    /// running and cancelled trials kept here. The caller appends the records, then writes this state.
    /// </summary>
    public IReadOnlyList<TrialResult> MigrateToResultLog()
    {
        var records = LegacyResults.Values.Where(r => r.Status != TrialStatus.Cancelled).ToList();
        foreach (var cancelled in LegacyResults.Values.Where(r => r.Status == TrialStatus.Cancelled)) Cancelled[cancelled.TrialId] = cancelled;
        foreach (var (trialId, status) in LegacyStatuses)
            if (status == TrialStatus.Running && !LegacyResults.ContainsKey(trialId)) Running.Add(trialId);
        LegacyResults = new();
        LegacyStatuses = new();
        FormatVersion = 2; // the spec moves out with the next write (format 3)
        return records;
    }

    /// <summary>A state of format 1 (results inside it) to migrate; format 2 only moves its spec out, on the next write.</summary>
    public bool NeedsMigration => StoredSpec is not null && FormatVersion < 2;
}

/// <summary>A sweep's spec and its fingerprint: stored apart from the compact state, written only when they change.</summary>
[GenerateSerializer]
public sealed class SweepSpecState
{
    [Id(0)] public SweepSpec? Spec { get; set; }
    [Id(1)] public string? SpecFingerprint { get; set; }
}
