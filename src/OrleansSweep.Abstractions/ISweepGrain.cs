using Orleans.Concurrency;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Abstractions;

/// <summary>One sweep, keyed by its name: expands the grid, dispatches trials, records their results once.</summary>
public interface ISweepGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the sweep; idempotent for the same spec, an extension for one that only adds grid values, an error for
    /// another spec under the same name. Answers with where the sweep stands (no results: a sweep of a million cells
    /// answers in a few hundred bytes; <see cref="GetChanges"/> has them).
    /// </summary>
    Task<SweepChanges> Start(SweepSpec spec);

    /// <summary>Every trial's status and every result: costs the whole sweep (prefer <see cref="GetChanges"/> for polling).</summary>
    [AlwaysInterleave]
    Task<SweepSnapshot> GetSnapshot();

    /// <summary>
    /// What changed since the reader's last look: results recorded after <paramref name="afterSequence"/> (0: from the
    /// first, at most <paramref name="limit"/>), and the spec only when <paramref name="knownSpecFingerprint"/> is not
    /// the sweep's.
    /// </summary>
    [AlwaysInterleave]
    Task<SweepChanges> GetChanges(long afterSequence, string? knownSpecFingerprint, int limit);

    /// <summary>A trial finished an epoch (also renews its liveness).</summary>
    [AlwaysInterleave]
    Task ReportProgress(string trialId, EpochMetrics metrics);

    /// <summary>A training trial is alive (heartbeat): extends its lease.</summary>
    [AlwaysInterleave]
    Task RenewLease(string trialId);

    /// <summary>
    /// A trial ended; recorded exactly once even when reported again, and durable before this returns. Interleaves with
    /// other reports so that results arriving together share one state write.
    /// </summary>
    [AlwaysInterleave]
    Task ReportResult(TrialResult result);

    /// <summary>Stops dispatching and asks running trials to stop at their next step.</summary>
    Task Cancel();

    /// <summary>Running trials stop at their next step (checkpoints kept) and nothing new starts, until <see cref="Resume"/>.</summary>
    Task Pause();

    /// <summary>Continues a paused or cancelled sweep: its unfinished trials run again, from their checkpoints.</summary>
    Task<SweepSnapshot> Resume();
}
