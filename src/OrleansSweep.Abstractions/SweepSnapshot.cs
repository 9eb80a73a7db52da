using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Abstractions;

/// <summary>Where one running trial stands.</summary>
[GenerateSerializer, Immutable]
public sealed record TrialProgress([property: Id(0)] string TrialId, [property: Id(1)] int EpochsDone,
    [property: Id(2)] int EpochsTotal, [property: Id(3)] EpochMetrics? Latest);

/// <summary>A sweep at one moment: its spec, the state of every trial, and the results recorded so far.</summary>
[GenerateSerializer, Immutable]
public sealed record SweepSnapshot
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public required SweepState State { get; init; }
    [Id(2)] public SweepSpec? Spec { get; init; }
    [Id(3)] public int TotalTrials { get; init; }
    [Id(4)] public IReadOnlyDictionary<string, TrialStatus> Statuses { get; init; } = new Dictionary<string, TrialStatus>();
    [Id(5)] public IReadOnlyDictionary<string, TrialResult> Results { get; init; } = new Dictionary<string, TrialResult>();
    [Id(6)] public IReadOnlyList<TrialProgress> Running { get; init; } = [];
    /// <summary>Transient failures per trial so far (retried ones included).</summary>
    [Id(7)] public IReadOnlyDictionary<string, int> TransientFailures { get; init; } = new Dictionary<string, int>();
    /// <summary>Final reports refused because the trial already had its result (exactly once, made visible); only trials that had one.</summary>
    [Id(8)] public IReadOnlyDictionary<string, int> DuplicateReports { get; init; } = new Dictionary<string, int>();

    public int Finished => Results.Count;
    public bool IsDone => State is SweepState.Completed or SweepState.Cancelled;
}
