using Microsoft.Extensions.Logging;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Sweeps;

/// <summary>What the sweep grain shows of its ledger: snapshots for clients, retries for the log.</summary>
public static class SweepLedgerViews
{
    /// <summary>
    /// The sweep as the ledger has it now, with the results not in the log yet (<paramref name="unappended"/>) and the
    /// cancelled outcomes; the caller adds the log's records (<see cref="SweepRecords.SnapshotAsync"/>).
    /// </summary>
    public static SweepSnapshot Snapshot(this SweepLedger ledger, string name, IEnumerable<TrialResult> unappended)
    {
        var state = ledger.State;
        int epochs = state.Spec?.Training.Epochs ?? 0;
        var results = unappended.Concat(state.Cancelled.Values).GroupBy(r => r.TrialId).ToDictionary(g => g.Key, g => g.First());
        return new SweepSnapshot
        {
            Name = name,
            State = state.State,
            Spec = state.Spec,
            TotalTrials = ledger.TotalTrials,
            Statuses = ledger.Statuses().ToDictionary(s => s.TrialId, s => s.Status),
            Results = results,
            Running = ledger.LatestProgress.Select(p => new TrialProgress(p.Key, p.Value.Epoch, epochs, p.Value)).ToList(),
            TransientFailures = new Dictionary<string, int>(state.TransientFailures),
            DuplicateReports = new Dictionary<string, int>(state.DuplicateReports),
        };
    }

    /// <summary>One line per transient failure: what failed, and when it runs again or that it was given up.</summary>
    public static void LogRetry(this ILogger logger, RetryNotice notice)
    {
        if (notice.Delay is { } delay)
            logger.LogWarning("Trial {Trial}: {Reason}; retrying in {Delay:F1} s (attempt {Next} of {Max})",
                notice.TrialId, notice.Reason, delay.TotalSeconds, notice.NextAttempt, notice.MaxAttempts);
        else
            logger.LogWarning("Trial {Trial}: {Reason}; gave up after {Attempts} attempts", notice.TrialId, notice.Reason, notice.NextAttempt);
    }
}
