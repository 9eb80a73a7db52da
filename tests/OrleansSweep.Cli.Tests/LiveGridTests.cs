using OrleansSweep.Client;
using OrleansSweep.Abstractions;
using OrleansSweep.Cli;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;
using OrleansSweep.TestSupport;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Cli.Tests;

public class LiveGridTests
{
    private static readonly IReadOnlyList<TrialSpec> Trials = GridExpander.Expand(SampleResults.Spec); // 2 x 2 cells x 3 seeds

    private static List<TrialSpec> Cell(int batch, double lr) => Trials.Where(t => t.BatchSize == batch && t.BaseLearningRate == lr).ToList();

    [Fact]
    public void A_cell_folds_its_seeds_results_running_epochs_and_pending_state()
    {
        var cell = Cell(16, Math.Pow(2, -8));
        var snapshot = new SweepSnapshot
        {
            Name = "r", State = SweepState.Running, TotalTrials = Trials.Count,
            Statuses = Trials.ToDictionary(t => t.TrialId, t => t == cell[2] ? TrialStatus.Running : TrialStatus.Pending),
            Results = new Dictionary<string, TrialResult>
            {
                [cell[0].TrialId] = SampleResults.Completed(cell[0].TrialId, 0.8),
                [cell[1].TrialId] = new() { TrialId = cell[1].TrialId, Status = TrialStatus.Diverged },
            },
            Running = [new TrialProgress(cell[2].TrialId, 2, 4, null)],
        };

        Assert.Equal("[green]80.0%[/] [red]1 div[/] [blue]> 2/4[/]", LiveGrid.CellText(cell, snapshot));
        Assert.Equal("[grey].[/]", LiveGrid.CellText(Cell(64, Math.Pow(2, -6)), snapshot));
    }

    [Fact]
    public void Progress_counts_epochs_and_projects_the_pace_so_far()
    {
        var snapshot = new SweepSnapshot
        {
            Name = "r", State = SweepState.Running, TotalTrials = 4,
            Results = new Dictionary<string, TrialResult> { ["a"] = SampleResults.Completed("a", 0.5) },
            Running = [new TrialProgress("b", 0, 1, null)],
        };
        var spec = SampleResults.Spec; // 1 epoch per trial
        var (fraction, remaining) = LiveCells.Progress(spec, snapshot, TimeSpan.FromSeconds(10));
        Assert.Equal(0.25, fraction);
        Assert.Equal(TimeSpan.FromSeconds(30), remaining);
        Assert.Null(LiveCells.Progress(spec, snapshot with { Results = new Dictionary<string, TrialResult>() }, TimeSpan.FromSeconds(5)).Remaining);
    }
}
