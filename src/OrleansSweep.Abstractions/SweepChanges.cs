using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Abstractions;

/// <summary>
/// What changed in a sweep since a reader's last look (<see cref="ISweepGrain.GetChanges"/>): the results recorded after
/// the sequence it has, and the small rest whole (state, running trials, failures so far). A poll with nothing new costs
/// that small rest, whatever the grid's size; the client's <c>SweepMirror</c> assembles snapshots from these.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SweepChanges
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public required SweepState State { get; init; }
    /// <summary>The spec, when the reader's fingerprint is not the sweep's (its first look, or the grid grew); else null.</summary>
    [Id(2)] public SweepSpec? Spec { get; init; }
    [Id(3)] public string? SpecFingerprint { get; init; }
    /// <summary>Grid cells plus the analysis jobs planned so far.</summary>
    [Id(4)] public int TotalTrials { get; init; }
    /// <summary>Results the sweep has recorded, durable or about to be: a reader holding fewer has more to fetch.</summary>
    [Id(5)] public int Recorded { get; init; }
    /// <summary>Result records after the reader's sequence, in order (at most a page; see <see cref="More"/>).</summary>
    [Id(6)] public IReadOnlyList<RecordedResult> Results { get; init; } = [];
    /// <summary>Whether more records follow the last of <see cref="Results"/> (ask again from its sequence).</summary>
    [Id(7)] public bool More { get; init; }
    /// <summary>The trials running now, and the latest epoch of those that finished one.</summary>
    [Id(8)] public IReadOnlyList<string> RunningTrials { get; init; } = [];
    [Id(9)] public IReadOnlyList<TrialProgress> Progress { get; init; } = [];
    /// <summary>Transient failures per trial so far (only trials that had one).</summary>
    [Id(10)] public IReadOnlyDictionary<string, int> TransientFailures { get; init; } = new Dictionary<string, int>();
    /// <summary>"Cancelled" outcomes of a cancelled sweep's stopped trials (not results; resuming runs them again).</summary>
    [Id(11)] public IReadOnlyDictionary<string, TrialResult> Cancelled { get; init; } = new Dictionary<string, TrialResult>();
    /// <summary>The analysis jobs planned so far (their ids are not grid cells).</summary>
    [Id(12)] public IReadOnlyList<string> AnalysisJobs { get; init; } = [];
    /// <summary>Final reports refused because the trial already had its result, per trial (only trials that had one).</summary>
    [Id(13)] public IReadOnlyDictionary<string, int> DuplicateReports { get; init; } = new Dictionary<string, int>();

    public bool IsDone => State is SweepState.Completed or SweepState.Cancelled;
}
