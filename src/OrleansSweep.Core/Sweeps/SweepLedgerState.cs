using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Sweeps;

public enum SweepState { NotStarted, Running, Completed, Cancelled, Paused }

/// <summary>
/// What a sweep persists besides its result records: everything <see cref="SweepLedger"/> needs to carry on after a
/// restart that the records do not say. Compact by design: its size depends on the trials running and the trials with
/// failures, never on the grid or on how many results exist (the grid is implied by the spec; finished trials are the
/// result records, <see cref="RecordedTrial"/>). An interface, so the grain's storage class (whose fields carry Orleans'
/// serialization ids, which Core does not know) holds it, and tests hold it in a <see cref="SweepLedgerState"/>.
/// </summary>
public interface ISweepLedgerState
{
    SweepSpec? Spec { get; set; }
    string? SpecFingerprint { get; set; }
    SweepState State { get; set; }
    /// <summary>Trials handed out and not yet ended: after a restart they are started again (they resume from checkpoints).</summary>
    HashSet<string> Running { get; set; }
    /// <summary>"Cancelled" outcomes of a cancelled sweep's stopped trials: not results (resuming runs them again).</summary>
    Dictionary<string, TrialResult> Cancelled { get; set; }
    /// <summary>Transient failures so far, per trial (only trials that had one).</summary>
    Dictionary<string, int> TransientFailures { get; set; }
    /// <summary>Earliest time a pending trial may be dispatched again (its back-off after a transient failure).</summary>
    Dictionary<string, DateTime> NotBefore { get; set; }
    /// <summary>
    /// Final reports refused because the trial already had its result, per trial (only trials that had one): exactly
    /// once made visible. A second report means a second run of the trial finished (a lease expired on a silo that was
    /// alive after all, or a report was retried after its write failed); it never becomes a second record.
    /// </summary>
    Dictionary<string, int> DuplicateReports { get; set; }
    /// <summary>Jobs planned once the grid ended (interpolations between cells); they run like trials, after the grid.</summary>
    List<TrialSpec> AnalysisJobs { get; set; }
    bool AnalysisPlanned { get; set; }
}

/// <summary>The ledger's state in memory (tests, tools); the sweep grain persists its own implementation.</summary>
public sealed class SweepLedgerState : ISweepLedgerState
{
    public SweepSpec? Spec { get; set; }
    public string? SpecFingerprint { get; set; }
    public SweepState State { get; set; } = SweepState.NotStarted;
    public HashSet<string> Running { get; set; } = new();
    public Dictionary<string, TrialResult> Cancelled { get; set; } = new();
    public Dictionary<string, int> TransientFailures { get; set; } = new();
    public Dictionary<string, DateTime> NotBefore { get; set; } = new();
    public Dictionary<string, int> DuplicateReports { get; set; } = new();
    public List<TrialSpec> AnalysisJobs { get; set; } = new();
    public bool AnalysisPlanned { get; set; }
}

/// <summary>A trial's result record as the ledger needs it after a restart: which trial, and how it ended.</summary>
public readonly record struct RecordedTrial(string TrialId, TrialStatus Status);

/// <summary>How a sweep's bookkeeping behaves: leases, retries and the concurrency fallback.</summary>
public sealed record SweepLedgerSettings
{
    /// <summary>A running trial that neither reports progress nor renews its lease for this long is presumed lost.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Back-off and bound for transient failures (lost silo, expired lease, storage or memory trouble).</summary>
    public RetryBackoff Retry { get; init; } = RetryBackoff.Default;

    /// <summary>Trials kept running at once when neither the spec nor the cluster's device slots say.</summary>
    public int DefaultMaxConcurrentTrials { get; init; } = 1;
}
