using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Sweeps;
using OrleansSweep.Core.Trials;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Core.Tests;

/// <summary>The sweep's bookkeeping without Orleans: every rule the sweep grain relies on, with the clock passed in.</summary>
public class SweepLedgerTests
{
    internal static readonly DateTime T0 = new(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);
    internal static readonly SweepLedgerSettings Settings = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(60), Retry = new RetryBackoff(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(30), MaxAttempts: 3),
    };

    /// <summary>The sweep's result log as the grain keeps it: every drained record, appended once per trial.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SweepLedger, Dictionary<string, TrialResult>> Logs = new();

    private static Dictionary<string, TrialResult> Log(SweepLedger ledger)
    {
        var log = Logs.GetValue(ledger, _ => new Dictionary<string, TrialResult>());
        foreach (var record in ledger.DrainRecords()) Assert.True(log.TryAdd(record.TrialId, record), $"{record.TrialId} recorded twice");
        return log;
    }

    private static IEnumerable<RecordedTrial> Recorded(SweepLedger ledger) => Log(ledger).Values.Select(r => new RecordedTrial(r.TrialId, r.Status));

    private static SweepLedger Started(out SweepLedgerState state, SweepSpec? spec = null)
    {
        state = new SweepLedgerState();
        var ledger = new SweepLedger(state, Settings, jitter: new Random(1));
        Assert.Equal(Admission.Created, ledger.Admit(spec ?? SampleResults.Spec, dataRoots: null));
        return ledger;
    }

    private static TrialResult Done(string id) => SampleResults.Completed(id, 0.8);

    [Fact]
    public void A_new_sweep_lays_out_every_cell_pending_and_the_same_spec_again_changes_nothing()
    {
        var ledger = Started(out var state);
        Assert.Equal(12, ledger.TotalTrials);
        Assert.All(ledger.Statuses(), s => Assert.Equal(TrialStatus.Pending, s.Status));
        Assert.Equal(SweepState.Running, state.State);
        Assert.Equal(Admission.Unchanged, ledger.Admit(SampleResults.Spec, null));
        var other = SweepSpecLoader.Parse(SweepSpecLoader.ToJson(SampleResults.Spec).Replace("\"epochs\": 1", "\"epochs\": 2"));
        var refused = Assert.Throws<AdmissionRejectedException>(() => ledger.Admit(other, null));
        Assert.Contains("already exists with a different spec", refused.Message);
    }

    [Fact]
    public void A_spec_outside_the_data_roots_is_refused()
    {
        var ledger = new SweepLedger(new SweepLedgerState(), Settings);
        var elsewhere = SampleResults.Spec with { Dataset = SampleResults.Spec.Dataset with { Path = "/etc" } };
        var refused = Assert.Throws<AdmissionRejectedException>(() => ledger.Admit(elsewhere, ["/nonexistent-root"]));
        Assert.Contains("dataset", refused.Message);
        Assert.Null(ledger.Spec);
    }

    [Fact]
    public void Dispatch_hands_out_trials_in_grid_order_up_to_the_limit()
    {
        var ledger = Started(out var state);
        var first = ledger.TakeDispatchable(clusterDeviceSlots: 3, T0);
        Assert.Equal(GridExpander.Expand(SampleResults.Spec).Take(3).Select(t => t.TrialId), first.Select(t => t.TrialId));
        Assert.All(first, t => Assert.Equal(TrialStatus.Running, ledger.StatusOf(t.TrialId)));
        Assert.Empty(ledger.TakeDispatchable(3, T0)); // the limit is reached
        Assert.Equal(ReportOutcome.Changed, ledger.Report(Done(first[1].TrialId), T0));
        var next = Assert.Single(ledger.TakeDispatchable(3, T0));
        Assert.Equal(GridExpander.Expand(SampleResults.Spec)[3].TrialId, next.TrialId);
    }

    [Fact]
    public void Dispatch_puts_each_seed_rounds_costliest_trials_first_and_a_retried_one_back_at_its_place()
    {
        // Spec order against cost: the large batch and the large LR first. Dispatch starts with the small batch (more
        // steps per epoch) at its small LR (least likely to diverge and stop early), seed by seed.
        var spec = SampleResults.Spec with { Grid = new GridSpec { BatchSizes = [256, 16], BaseLearningRates = [Math.Pow(2, -6), Math.Pow(2, -10)], Seeds = [0, 1] } };
        var ledger = Started(out _, spec);
        var taken = new List<string>();
        var now = T0;
        bool failedOnce = false;
        while (ledger.TakeDispatchable(1, now) is [var next])
        {
            taken.Add(next.TrialId);
            // The second trial fails transiently once: once its back-off is over it comes back before any trial not yet started.
            var result = next.TrialId == "bs16-lr2^-6-none-s0" && !failedOnce
                ? new TrialResult { TrialId = next.TrialId, Status = TrialStatus.Failed, FailureKind = FailureKind.Transient, FailureReason = "disk full" }
                : Done(next.TrialId);
            failedOnce |= result.Status == TrialStatus.Failed;
            ledger.Report(result, now);
            now += TimeSpan.FromHours(1); // past any back-off
        }
        Assert.Equal(["bs16-lr2^-10-none-s0", "bs16-lr2^-6-none-s0", "bs16-lr2^-6-none-s0", "bs256-lr2^-10-none-s0", "bs256-lr2^-6-none-s0",
                      "bs16-lr2^-10-none-s1", "bs16-lr2^-6-none-s1", "bs256-lr2^-10-none-s1", "bs256-lr2^-6-none-s1"], taken);
        Assert.Equal(8, ledger.Recorded);
    }

    [Theory]
    [InlineData(null, 0, 1)]   // no cluster slots published: the configured default
    [InlineData(null, 4, 4)]   // the cluster's device slots
    [InlineData(2, 4, 2)]      // the spec's cap wins
    public void The_concurrency_limit_is_the_specs_cap_else_the_clusters_slots_else_the_default(int? cap, int slots, int limit)
    {
        var spec = SampleResults.Spec with { Execution = new ExecutionSpec { MaxConcurrentTrials = cap } };
        Assert.Equal(limit, Started(out _, spec).ConcurrencyLimit(slots));
    }

    [Fact]
    public void A_result_is_recorded_exactly_once_and_the_sweep_completes_with_the_last()
    {
        var ledger = Started(out var state);
        foreach (var trial in GridExpander.Expand(SampleResults.Spec))
        {
            ledger.TakeDispatchable(12, T0);
            Assert.Equal(ReportOutcome.Changed, ledger.Report(Done(trial.TrialId), T0));
        }
        Assert.Equal(SweepState.Completed, state.State);
        string id = Log(ledger).Keys.First();
        var second = Done(id) with { FinalTestAccuracy = 0.1 };
        Assert.Empty(state.DuplicateReports);
        Assert.Equal(ReportOutcome.Duplicate, ledger.Report(second, T0));
        Assert.Equal(ReportOutcome.Duplicate, ledger.Report(second, T0));
        Assert.Equal(0.8, Log(ledger)[id].FinalTestAccuracy);
        Assert.Equal(1, Log(ledger)[id].Attempts);
        Assert.Equal(12, Log(ledger).Count);
        // Refused, but not silently: two more reports of one cell are there to see.
        Assert.Equal(new Dictionary<string, int> { [id] = 2 }, state.DuplicateReports);
        Assert.Throws<ArgumentException>(() => ledger.Report(Done("bs999-lr2^-8-none-s0"), T0));
    }

    [Fact]
    public void A_transient_failure_backs_off_then_runs_again_and_gives_up_after_the_last_attempt()
    {
        var ledger = Started(out var state, SampleResults.Spec with { Execution = new ExecutionSpec { MaxConcurrentTrials = 1 } });
        var notices = new List<RetryNotice>();
        ledger.RetryScheduled += notices.Add;
        string id = ledger.TakeDispatchable(1, T0).Single().TrialId;
        var failure = new TrialResult { TrialId = id, Status = TrialStatus.Failed, FailureKind = FailureKind.Transient, FailureReason = "disk full" };

        ledger.Report(failure, T0);
        Assert.Equal(TrialStatus.Pending, ledger.StatusOf(id));
        var wait = state.NotBefore[id] - T0;
        Assert.InRange(wait, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)); // [base/2, base] after the first failure
        Assert.NotEqual(id, ledger.TakeDispatchable(1, T0).Single().TrialId); // the next cell runs meanwhile
        ledger.Report(Done(ledger.Running.Single()), T0);
        Assert.DoesNotContain(ledger.TakeDispatchable(1, T0 + wait - TimeSpan.FromTicks(1)), t => t.TrialId == id); // not a tick early
        foreach (string running in ledger.Running.ToList()) ledger.Report(Done(running), T0);
        Assert.Equal(id, ledger.TakeDispatchable(1, T0 + wait).Single().TrialId); // its back-off is over: first in grid order

        ledger.Report(failure, T0 + wait);
        Assert.Equal(id, ledger.TakeDispatchable(1, T0 + TimeSpan.FromMinutes(1)).Single().TrialId);
        ledger.Report(failure, T0 + TimeSpan.FromMinutes(1));
        var given = Log(ledger)[id];
        Assert.Equal((TrialStatus.Failed, FailureKind.Transient, 3), (given.Status, given.FailureKind!.Value, given.Attempts));
        Assert.Equal("disk full (gave up after 3 attempts)", given.FailureReason);
        Assert.Equal([2, 3, 3], notices.Select(n => n.NextAttempt));
        Assert.Null(notices[^1].Delay);
    }

    [Fact]
    public void A_deterministic_failure_and_a_divergence_are_results_at_once()
    {
        var ledger = Started(out var state);
        var two = ledger.TakeDispatchable(2, T0);
        ledger.Report(new TrialResult { TrialId = two[0].TrialId, Status = TrialStatus.Failed, FailureKind = FailureKind.Deterministic, FailureReason = "corrupt" }, T0);
        ledger.Report(new TrialResult { TrialId = two[1].TrialId, Status = TrialStatus.Diverged, DivergedAtEpoch = 1 }, T0);
        Assert.Equal(TrialStatus.Failed, Log(ledger)[two[0].TrialId].Status);
        Assert.Equal(TrialStatus.Diverged, Log(ledger)[two[1].TrialId].Status);
        Assert.Empty(state.TransientFailures);
    }

    [Fact]
    public void An_expired_lease_sends_the_trial_back_through_the_retry_path_and_progress_renews_it()
    {
        var ledger = Started(out var state);
        var two = ledger.TakeDispatchable(2, T0);
        ledger.Progress(two[0].TrialId, new EpochMetrics(1, 1, 1, 0.5, 1), T0 + TimeSpan.FromSeconds(50));
        Assert.Empty(ledger.ExpireLeases(T0 + TimeSpan.FromSeconds(60)));
        var expired = ledger.ExpireLeases(T0 + TimeSpan.FromSeconds(61));
        Assert.Equal([two[1].TrialId], expired);
        Assert.Equal(TrialStatus.Pending, ledger.StatusOf(two[1].TrialId));
        Assert.Equal(1, state.TransientFailures[two[1].TrialId]);
        Assert.Equal([two[0].TrialId], ledger.LatestProgress.Keys);
        ledger.Heartbeat(two[0].TrialId, T0 + TimeSpan.FromSeconds(100));
        Assert.Empty(ledger.ExpireLeases(T0 + TimeSpan.FromSeconds(159)));
    }

    [Fact]
    public void A_stopped_trial_of_a_paused_sweep_is_pending_again_and_resume_runs_it()
    {
        var ledger = Started(out var state);
        var two = ledger.TakeDispatchable(2, T0);
        Assert.Equal(two.Select(t => t.TrialId).Order(), ledger.Pause().Order());
        Assert.Empty(ledger.TakeDispatchable(2, T0)); // paused: nothing new
        Assert.Empty(ledger.Pause());                  // twice: nothing more to stop
        ledger.Report(new TrialResult { TrialId = two[0].TrialId, Status = TrialStatus.Cancelled }, T0);
        Assert.Equal(TrialStatus.Pending, ledger.StatusOf(two[0].TrialId));
        Assert.False(Log(ledger).ContainsKey(two[0].TrialId));

        Assert.True(ledger.ResumeStopped());
        Assert.Equal(SweepState.Running, state.State);
        Assert.Equal(TrialStatus.Pending, ledger.StatusOf(two[1].TrialId)); // never reported: pending, not stuck running
        Assert.Equal(two.Select(t => t.TrialId), ledger.TakeDispatchable(2, T0).Select(t => t.TrialId));
    }

    [Fact]
    public void A_cancelled_sweep_records_its_stopped_trials_and_the_same_spec_again_resumes_it()
    {
        var ledger = Started(out var state);
        string id = ledger.TakeDispatchable(1, T0).Single().TrialId;
        Assert.Equal([id], ledger.Cancel());
        ledger.Report(new TrialResult { TrialId = id, Status = TrialStatus.Cancelled }, T0);
        Assert.Equal(TrialStatus.Cancelled, state.Cancelled[id].Status);
        Assert.Empty(Log(ledger)); // stopped, not a result
        Assert.Equal(Admission.Resumed, ledger.Admit(SampleResults.Spec, null));
        Assert.False(state.Cancelled.ContainsKey(id));
        Assert.Equal(id, ledger.TakeDispatchable(1, T0).Single().TrialId);
    }

    [Fact]
    public void A_paused_sweep_whose_last_trial_finished_anyway_completes_when_it_continues()
    {
        var ledger = Started(out var state);
        var all = ledger.TakeDispatchable(12, T0);
        foreach (var trial in all.Skip(1)) ledger.Report(Done(trial.TrialId), T0);
        Assert.Equal([all[0].TrialId], ledger.Pause());
        ledger.Report(Done(all[0].TrialId), T0); // it reached its end before the stop arrived: a result, kept
        Assert.Equal(SweepState.Paused, state.State); // paused stays paused until someone continues it
        Assert.Equal(12, Log(ledger).Count);

        Assert.Equal(Admission.Resumed, ledger.Admit(SampleResults.Spec, null));
        Assert.Equal(SweepState.Completed, state.State); // nothing left to run
        Assert.Empty(ledger.TakeDispatchable(12, T0));
        Assert.False(ledger.ResumeStopped()); // only a paused or cancelled sweep continues
        Assert.Empty(ledger.Pause());         // a completed sweep has nothing to stop
        Assert.Equal(SweepState.Completed, state.State);
    }

    [Fact]
    public void A_stopped_trials_second_cancelled_report_is_a_duplicate_and_continuing_forgets_it()
    {
        var ledger = Started(out var state);
        string id = ledger.TakeDispatchable(1, T0).Single().TrialId;
        ledger.Cancel();
        var stopped = new TrialResult { TrialId = id, Status = TrialStatus.Cancelled };
        Assert.Equal(ReportOutcome.Changed, ledger.Report(stopped, T0));
        Assert.Equal(ReportOutcome.Duplicate, ledger.Report(stopped, T0));
        Assert.Empty(state.DuplicateReports); // a repeated stop is no repeated result
        Assert.Empty(ledger.Running);

        Assert.True(ledger.ResumeStopped());
        Assert.Empty(state.Cancelled);
        Assert.Equal(TrialStatus.Pending, ledger.StatusOf(id));
        Assert.Equal(id, ledger.TakeDispatchable(1, T0).Single().TrialId);
        Assert.Equal(ReportOutcome.Changed, ledger.Report(Done(id), T0)); // the rerun's result counts
        Assert.Equal(TrialStatus.Completed, Log(ledger)[id].Status);
    }

    [Fact]
    public void A_grid_grown_while_paused_continues_with_its_stopped_and_new_cells()
    {
        var ledger = Started(out var state);
        var first = ledger.TakeDispatchable(2, T0);
        ledger.Report(Done(first[0].TrialId), T0);
        Assert.Equal([first[1].TrialId], ledger.Pause());

        var grown = SampleResults.Spec with { Grid = SampleResults.Spec.Grid with { Seeds = [.. SampleResults.Spec.Grid.Seeds, 99] } };
        Assert.Equal(Admission.Extended, ledger.Admit(grown, null));
        Assert.Equal(SweepState.Running, state.State);
        Assert.Equal(TrialStatus.Pending, ledger.StatusOf(first[1].TrialId)); // stopped by the pause: runs again
        Assert.Equal(TrialStatus.Completed, ledger.StatusOf(first[0].TrialId));
        var rest = ledger.TakeDispatchable(100, T0);
        Assert.Equal(15, rest.Count); // 16 cells less the one recorded
        Assert.Contains(rest, t => t.TrialId == first[1].TrialId);
        Assert.DoesNotContain(rest, t => t.TrialId == first[0].TrialId);
    }

    [Fact]
    public void A_completed_report_with_a_nan_test_loss_is_recorded_as_diverged()
    {
        var ledger = Started(out var state);
        string id = ledger.TakeDispatchable(1, T0).Single().TrialId;
        ledger.Report(Done(id) with { FinalTestLoss = double.NaN, Epochs = [new EpochMetrics(1, 2.3, double.NaN, 0.1, 1)] }, T0);
        Assert.Equal(TrialStatus.Diverged, Log(ledger)[id].Status);
        Assert.Equal(TrialStatus.Diverged, ledger.StatusOf(id));
    }

    [Fact]
    public void A_ledger_rebuilt_from_its_state_carries_on_where_it_was()
    {
        var ledger = Started(out var state);
        var running = ledger.TakeDispatchable(3, T0);
        ledger.Report(Done(running[0].TrialId), T0);
        var again = new SweepLedger(state, Settings, Recorded(ledger));
        Assert.Equal(running.Skip(1).Select(t => t.TrialId), again.RestartRunning(T0).Select(t => t.TrialId));
        Assert.Equal(GridExpander.Expand(SampleResults.Spec)[3].TrialId, again.TakeDispatchable(3, T0).Single().TrialId);
    }

    [Fact]
    public void A_result_recorded_just_before_a_crash_is_not_started_again()
    {
        var ledger = Started(out var state);
        var running = ledger.TakeDispatchable(2, T0);
        var stateAsWritten = new SweepLedgerState
        {
            Spec = state.Spec, SpecFingerprint = state.SpecFingerprint, State = state.State, Running = [.. state.Running],
        };
        ledger.Report(Done(running[0].TrialId), T0); // its record reached the log; the state write did not
        var again = new SweepLedger(stateAsWritten, Settings, Recorded(ledger));
        Assert.Equal([running[1].TrialId], again.RestartRunning(T0).Select(t => t.TrialId));
        Assert.Equal(TrialStatus.Completed, again.StatusOf(running[0].TrialId));
        Assert.Equal(1, again.Recorded);
        Assert.Equal(ReportOutcome.Duplicate, again.Report(Done(running[0].TrialId), T0));
    }

    [Fact]
    public void A_grid_that_grows_runs_only_its_new_cells_and_keeps_every_result()
    {
        var ledger = Started(out var state);
        foreach (var trial in ledger.TakeDispatchable(12, T0)) ledger.Report(Done(trial.TrialId), T0);
        Assert.Equal(SweepState.Completed, state.State);
        var before = Log(ledger).Keys.ToHashSet();

        var grown = SampleResults.Spec with { Grid = SampleResults.Spec.Grid with { Seeds = [.. SampleResults.Spec.Grid.Seeds, 99] } };
        Assert.Equal(Admission.Extended, ledger.Admit(grown, null));
        Assert.Equal(4, ledger.AddedCells); // 2 batch sizes x 2 LRs of the new seed
        Assert.Equal(SweepState.Running, state.State);
        var added = ledger.TakeDispatchable(100, T0);
        Assert.Equal(4, added.Count);
        Assert.All(added, t => Assert.Equal(99, t.Seed));
        Assert.All(before, id => Assert.Equal(TrialStatus.Completed, ledger.StatusOf(id)));
        foreach (var trial in added) ledger.Report(Done(trial.TrialId), T0);
        Assert.Equal(SweepState.Completed, state.State);
        Assert.Equal(16, Log(ledger).Count);
        // Rebuilt from its state and records, the grown sweep is whole.
        Assert.Equal(16, new SweepLedger(state, Settings, Recorded(ledger)).Recorded);
    }

    [Fact]
    public void A_spec_that_changes_more_than_grid_values_is_refused_naming_what_differs()
    {
        var ledger = Started(out _);
        var fewer = SampleResults.Spec with { Grid = SampleResults.Spec.Grid with { BatchSizes = SampleResults.Spec.Grid.BatchSizes.Skip(1).ToList() } };
        var dropped = Assert.Throws<AdmissionRejectedException>(() => ledger.Admit(fewer, null));
        Assert.Contains($"grid.batchSizes drops {SampleResults.Spec.Grid.BatchSizes[0]}", dropped.Message);
        var longer = SampleResults.Spec with
        {
            Training = SampleResults.Spec.Training with { Epochs = 9 },
            Grid = SampleResults.Spec.Grid with { Seeds = [.. SampleResults.Spec.Grid.Seeds, 99] },
        };
        var changed = Assert.Throws<AdmissionRejectedException>(() => ledger.Admit(longer, null));
        Assert.Contains("training differs", changed.Message);
        Assert.Equal(12, ledger.TotalTrials);
    }

    [Fact]
    public void A_million_cell_grid_is_laid_out_without_expanding_it()
    {
        var spec = SampleResults.Spec with
        {
            Grid = new GridSpec
            {
                BatchSizes = [.. Enumerable.Range(1, 100)], BaseLearningRates = [.. Enumerable.Range(1, 100).Select(i => i * 1e-4)],
                BnModes = ["none"], Seeds = [.. Enumerable.Range(0, 100)],
            },
        };
        var ledger = Started(out var state, spec);
        Assert.Equal(1_000_000, ledger.TotalTrials);
        var first = ledger.TakeDispatchable(4, T0);
        Assert.Equal(GridExpander.TrialIdFor(1, 1e-4, BnMode.Parse("none"), 0), first[0].TrialId);
        ledger.Report(Done(first[2].TrialId), T0);
        var again = new SweepLedger(state, Settings, Recorded(ledger));
        Assert.Equal(1, again.Recorded);
        Assert.Equal(3, again.RestartRunning(T0).Count);
    }
}
