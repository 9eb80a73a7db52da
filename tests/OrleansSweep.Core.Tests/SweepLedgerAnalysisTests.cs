using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Sweeps;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Core.Tests;

/// <summary>
/// The ledger's analysis stage without Orleans: interpolations are planned when the grid ends, then run like trials,
/// and a ledger rebuilt from its state and the result log knows them again. Written from the mutation report: these
/// rules were covered only through grains (AnalysisStageTests), so the Core tests let their mutants survive.
/// </summary>
public class SweepLedgerAnalysisTests
{
    private static readonly DateTime T0 = SweepLedgerTests.T0;
    private static readonly SweepLedgerSettings Settings = SweepLedgerTests.Settings;

    private static readonly SweepSpec Spec = SweepSpecLoader.Parse("""
        { "name": "a", "dataset": { "name": "fashion-mnist" }, "model": { "architecture": "resnet8" }, "training": { "epochs": 1 },
          "grid": { "batchSizes": [16, 64], "baseLearningRates": ["2^-8", "2^4"], "seeds": [0] },
          "analysis": { "interpolations": [
            { "name": "sb-lb", "small": { "batchSize": 16 }, "large": { "batchSize": 64 }, "points": 5 },
            { "name": "to-diverged", "small": { "batchSize": 16 }, "large": { "batchSize": 64, "baseLearningRate": "2^4" } } ] } }
        """);

    /// <summary>Runs the grid: every cell converges except m = 64 at eta~ = 2^4, which diverges.</summary>
    private static Dictionary<string, TrialResult> RunGrid(SweepLedger ledger)
    {
        var results = new Dictionary<string, TrialResult>();
        foreach (var trial in ledger.TakeDispatchable(100, T0))
        {
            var result = trial.BatchSize == 64 && trial.BaseLearningRate > 1
                ? new TrialResult { TrialId = trial.TrialId, Status = TrialStatus.Diverged, DivergedAtEpoch = 1 }
                : SampleResults.Completed(trial.TrialId, trial.BatchSize == 16 ? 0.85 : 0.8);
            results[trial.TrialId] = result;
            ledger.Report(result, T0);
        }
        return results;
    }

    [Fact]
    public void Interpolations_are_planned_when_the_grid_ends_and_the_sweep_completes_only_after_them()
    {
        var state = new SweepLedgerState();
        var ledger = new SweepLedger(state, Settings, jitter: new Random(1));
        Assert.Equal(Admission.Created, ledger.Admit(Spec, null));
        Assert.Equal(4, ledger.TotalTrials);
        Assert.False(ledger.AnalysisDue); // the grid has not ended

        var grid = RunGrid(ledger);
        Assert.Equal(4, grid.Count);
        Assert.True(ledger.AnalysisDue);
        Assert.Equal(SweepState.Running, state.State); // not complete while its analysis waits to be planned
        Assert.Empty(ledger.TakeDispatchable(100, T0));

        ledger.PlanAnalysis(grid);
        Assert.False(ledger.AnalysisDue);
        Assert.Equal(6, ledger.TotalTrials);
        Assert.Equal(["sb-lb", "to-diverged"], state.AnalysisJobs.Select(j => j.Interpolation!.Name));
        // The line to a diverged cell cannot run: recorded failed at once, with the reason; the other one runs.
        var jobs = state.AnalysisJobs.Select(j => j.TrialId).ToList();
        Assert.Equal(TrialStatus.Failed, ledger.StatusOf(jobs[1]));
        Assert.Equal(TrialStatus.Pending, ledger.StatusOf(jobs[0]));
        Assert.Equal(jobs[0], ledger.Trial(jobs[0]).TrialId);
        var dispatched = Assert.Single(ledger.TakeDispatchable(100, T0));
        Assert.Equal(jobs[0], dispatched.TrialId);
        Assert.Equal(SweepState.Running, state.State);

        // A ledger rebuilt now (a restart) from the state and the log knows the jobs and what they recorded.
        var log = ledger.DrainRecords().ToList();
        var rebuilt = new SweepLedger(state, Settings, log.Select(r => new RecordedTrial(r.TrialId, r.Status)));
        Assert.Equal(6, rebuilt.TotalTrials);
        Assert.False(rebuilt.AnalysisDue); // planned once: the grid's end does not plan it again
        Assert.Equal(5, rebuilt.Recorded);
        Assert.Equal(TrialStatus.Failed, rebuilt.StatusOf(jobs[1]));
        Assert.Equal(jobs[0], rebuilt.Trial(jobs[0]).TrialId);

        ledger.Report(SampleResults.Completed(jobs[0], 0.5), T0);
        Assert.Equal(SweepState.Completed, state.State);
        Assert.Equal(6, ledger.Recorded);
    }

    [Fact]
    public void A_grid_without_interpolations_completes_with_its_last_cell()
    {
        var spec = Spec with { Analysis = null };
        var state = new SweepLedgerState();
        var ledger = new SweepLedger(state, Settings, jitter: new Random(1));
        ledger.Admit(spec, null);
        RunGrid(ledger);
        Assert.False(ledger.AnalysisDue);
        Assert.Equal(SweepState.Completed, state.State);
    }
}
