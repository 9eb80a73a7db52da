using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Sweeps;

/// <summary>
/// What a sweep persists before acknowledging any change (<see cref="ISweepLedgerState"/>: the ledger's state). Fields
/// carry [Id]s so later versions can read it; the [Id]s are the stored format, never renumbered.
/// </summary>
[GenerateSerializer]
public sealed class SweepGrainState : ISweepLedgerState
{
    [Id(0)] public int FormatVersion { get; set; } = 1;
    [Id(1)] public SweepSpec? Spec { get; set; }
    [Id(2)] public string? SpecFingerprint { get; set; }
    [Id(3)] public SweepState State { get; set; } = SweepState.NotStarted;
    [Id(4)] public Dictionary<string, TrialStatus> Statuses { get; set; } = new();
    [Id(5)] public Dictionary<string, TrialResult> Results { get; set; } = new();
    /// <summary>Transient failures so far, per trial.</summary>
    [Id(6)] public Dictionary<string, int> TransientFailures { get; set; } = new();
    /// <summary>Earliest time a pending trial may be dispatched again (its back-off after a transient failure).</summary>
    [Id(7)] public Dictionary<string, DateTime> NotBefore { get; set; } = new();
    /// <summary>Jobs planned once the grid ended (interpolations between cells); they run like trials, after the grid.</summary>
    [Id(8)] public List<TrialSpec> AnalysisJobs { get; set; } = new();
    [Id(9)] public bool AnalysisPlanned { get; set; }
}
