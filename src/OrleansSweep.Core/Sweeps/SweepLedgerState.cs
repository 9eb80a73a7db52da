using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Sweeps;

public enum SweepState { NotStarted, Running, Completed, Cancelled, Paused }

/// <summary>
/// What a sweep persists before it acknowledges any change: everything <see cref="SweepLedger"/> needs to carry on
/// after a restart. An interface, so the grain's storage class (whose fields carry Orleans' serialization ids, which
/// Core does not know) holds it as it always has, and tests hold it in a <see cref="SweepLedgerState"/>.
/// </summary>
public interface ISweepLedgerState
{
    SweepSpec? Spec { get; set; }
    string? SpecFingerprint { get; set; }
    SweepState State { get; set; }
    Dictionary<string, TrialStatus> Statuses { get; set; }
    Dictionary<string, TrialResult> Results { get; set; }
    /// <summary>Transient failures so far, per trial.</summary>
    Dictionary<string, int> TransientFailures { get; set; }
    /// <summary>Earliest time a pending trial may be dispatched again (its back-off after a transient failure).</summary>
    Dictionary<string, DateTime> NotBefore { get; set; }
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
    public Dictionary<string, TrialStatus> Statuses { get; set; } = new();
    public Dictionary<string, TrialResult> Results { get; set; } = new();
    public Dictionary<string, int> TransientFailures { get; set; } = new();
    public Dictionary<string, DateTime> NotBefore { get; set; } = new();
    public List<TrialSpec> AnalysisJobs { get; set; } = new();
    public bool AnalysisPlanned { get; set; }
}

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
