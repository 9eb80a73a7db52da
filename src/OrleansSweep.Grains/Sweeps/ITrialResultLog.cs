using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Sweeps;

/// <summary>
/// A sweep's results, each its own durable record, written once per trial: rows of the study's SQLite file when
/// embedded, a hash and a list per sweep in Redis in a cluster, a grain's memory in tests. The sweep's own state stays
/// compact (<see cref="ISweepLedgerState"/>), so no write's size depends on how many results exist, and a reader can
/// ask for what is new since the sequence number it has seen.
/// </summary>
/// <remarks>
/// Appending is idempotent by trial id: a second record for a trial is ignored, whoever writes it (a retried write, a
/// stale activation of the sweep elsewhere). That, not the caller, is what makes results exactly-once.
/// </remarks>
public interface ITrialResultLog
{
    /// <summary>Appends each result whose trial has no record yet, in order; durable when the task completes.</summary>
    Task AppendAsync(string sweep, IReadOnlyList<TrialResult> results);

    /// <summary>Every record's trial and status (what the ledger needs after a restart), without the results' bodies.</summary>
    Task<IReadOnlyList<RecordedTrial>> ReadTrialsAsync(string sweep);

    /// <summary>Records after <paramref name="afterSequence"/> (0: all), in order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<RecordedResult>> ReadAsync(string sweep, long afterSequence = 0, int limit = int.MaxValue);

    /// <summary>The sequence number of the last record (0: none): the version a reader compares with its own.</summary>
    Task<long> LastSequenceAsync(string sweep);
}
