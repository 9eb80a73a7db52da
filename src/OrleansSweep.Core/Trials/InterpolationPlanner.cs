using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Core.Trials;

/// <summary>
/// A requested interpolation turned into a job. When it cannot run, <paramref name="Problem"/> says why and the job
/// (modelled on the grid's first trial, naming no trials) is only there to carry the failed result.
/// </summary>
public sealed record PlannedInterpolation(InterpolationSpec Spec, TrialSpec Job, string? Problem);

/// <summary>
/// Turns the spec's interpolations into jobs once the grid has ended: each end names a cell; an omitted base LR
/// means the batch size's best (highest median accuracy over seeds), found from the results.
/// </summary>
public static class InterpolationPlanner
{
    public const string IdPrefix = "interpolation-";

    public static string JobIdFor(string name) => IdPrefix + name;

    public static IReadOnlyList<PlannedInterpolation> Plan(SweepSpec spec, IReadOnlyDictionary<string, TrialResult> results)
    {
        var planned = new List<PlannedInterpolation>();
        if (spec.Analysis is not { Interpolations.Count: > 0 } analysis) return planned;
        var trials = GridExpander.Expand(spec).ToDictionary(t => t.TrialId);
        var grids = ResultGrid.Build(spec, results);
        foreach (var interpolation in analysis.Interpolations)
        {
            var (small, smallProblem) = Resolve(spec, interpolation.Small, grids, trials, results);
            var (large, largeProblem) = Resolve(spec, interpolation.Large, grids, trials, results);
            string? problem = smallProblem ?? largeProblem;
            if (problem is not null || small is null || large is null)
            {
                var placeholder = trials.Values.First() with
                {
                    TrialId = JobIdFor(interpolation.Name), Analysis = null,
                    Interpolation = new InterpolationJob(interpolation.Name, "", "", interpolation.Points),
                };
                planned.Add(new PlannedInterpolation(interpolation, placeholder, $"interpolation '{interpolation.Name}': {problem}"));
                continue;
            }
            var job = small with
            {
                TrialId = JobIdFor(interpolation.Name),
                Analysis = null,
                Interpolation = new InterpolationJob(interpolation.Name, small.TrialId, large.TrialId, interpolation.Points, interpolation.BnStatistics),
            };
            planned.Add(new PlannedInterpolation(interpolation, job, null));
        }
        return planned;
    }

    private static (TrialSpec? Trial, string? Problem) Resolve(SweepSpec spec, CellSelector cell, IReadOnlyList<ResultGrid> grids,
        IReadOnlyDictionary<string, TrialSpec> trials, IReadOnlyDictionary<string, TrialResult> results)
    {
        var mode = BnMode.Parse(cell.BnMode ?? spec.Grid.BnModes[0]);
        int seed = cell.Seed ?? spec.Grid.Seeds[0];
        double? lr = cell.BaseLearningRate;
        if (lr is null)
        {
            var grid = grids.Single(g => g.BnMode == mode.ToString());
            lr = grid.BestLearningRatePerBatch().Single(b => b.BatchSize == cell.BatchSize).BestBaseLearningRate;
            if (lr is null) return (null, $"batch size {cell.BatchSize} ({mode}) has no completed trial, so no best learning rate.");
        }
        string id = GridExpander.TrialIdFor(cell.BatchSize, lr.Value, mode, seed);
        if (!trials.TryGetValue(id, out var trial)) return (null, $"trial {id} is not in the grid.");
        var result = results.GetValueOrDefault(id);
        if (result?.Status != TrialStatus.Completed)
            return (null, $"trial {id} {(result is null ? "has no result" : $"ended {result.Status.ToString().ToLowerInvariant()}")} (expected a completed trial with final weights).");
        return (trial, null);
    }
}
