using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Results;

/// <summary>One cell of a batch x base-LR grid, seeds aggregated.</summary>
public sealed record GridCell(
    int BatchSize,
    double BaseLearningRate,
    int Seeds,
    int Completed,
    int Diverged,
    int Failed,
    int Cancelled,
    double? MedianAccuracy,
    double? MinAccuracy,
    double? MaxAccuracy,
    double? MedianTestLoss,
    IReadOnlyDictionary<string, double>? MedianSharpness = null,
    double? MedianHessianEigenvalue = null,
    double? MedianAnalysisTrainLoss = null,
    double? MedianGeneralisationGap = null,
    double? MedianAnalysisTrainAccuracy = null,
    double? MedianAccuracyGap = null)
{
    public bool IsFinished => Completed + Diverged + Failed == Seeds;

    /// <summary>Converged seeds over seeds that ended either way (the stability view); null before any did.</summary>
    public double? ConvergedFraction => Completed + Diverged > 0 ? (double)Completed / (Completed + Diverged) : null;

    /// <summary>converged, diverged, unstable (some seeds each way), failed, cancelled or pending.</summary>
    public string Status =>
        Completed > 0 && Diverged > 0 ? "unstable"
        : Completed > 0 ? "converged"
        : Diverged > 0 ? "diverged"
        : Failed > 0 ? "failed"
        : Cancelled > 0 ? "cancelled"
        : "pending";
}

/// <summary>Final test accuracy per batch size x base LR for one BN mode, seeds aggregated (median, min, max).</summary>
public sealed record ResultGrid(string BnMode, IReadOnlyList<int> BatchSizes, IReadOnlyList<double> BaseLearningRates, GridCell[,] Cells)
{
    public GridCell this[int batchIndex, int lrIndex] => Cells[batchIndex, lrIndex];

    /// <summary>One grid per BN mode of the spec, from whatever results exist so far.</summary>
    public static IReadOnlyList<ResultGrid> Build(SweepSpec spec, IReadOnlyDictionary<string, TrialResult> results)
    {
        var trials = GridExpander.Expand(spec);
        var grids = new List<ResultGrid>();
        foreach (string bn in spec.Grid.BnModes)
        {
            var mode = Specs.BnMode.Parse(bn).ToString();
            var cells = new GridCell[spec.Grid.BatchSizes.Count, spec.Grid.BaseLearningRates.Count];
            for (int b = 0; b < spec.Grid.BatchSizes.Count; b++)
            for (int l = 0; l < spec.Grid.BaseLearningRates.Count; l++)
            {
                int batch = spec.Grid.BatchSizes[b];
                double lr = spec.Grid.BaseLearningRates[l];
                var cellTrials = trials.Where(t => t.BnMode == mode && t.BatchSize == batch && t.BaseLearningRate == lr).ToList();
                var finished = cellTrials.Select(t => results.GetValueOrDefault(t.TrialId)).OfType<TrialResult>().ToList();
                var completed = finished.Where(r => r.Status == TrialStatus.Completed && r.FinalTestAccuracy is not null).ToList();
                var accuracies = completed.Select(r => r.FinalTestAccuracy!.Value).ToList();
                var losses = completed.Where(r => r.FinalTestLoss is not null).Select(r => r.FinalTestLoss!.Value).ToList();
                cells[b, l] = new GridCell(batch, lr, cellTrials.Count,
                    Completed: finished.Count(r => r.Status == TrialStatus.Completed),
                    Diverged: finished.Count(r => r.Status == TrialStatus.Diverged),
                    Failed: finished.Count(r => r.Status == TrialStatus.Failed),
                    Cancelled: finished.Count(r => r.Status == TrialStatus.Cancelled),
                    MedianAccuracy: accuracies.Count > 0 ? Statistics.Median(accuracies) : null,
                    MinAccuracy: accuracies.Count > 0 ? accuracies.Min() : null,
                    MaxAccuracy: accuracies.Count > 0 ? accuracies.Max() : null,
                    MedianTestLoss: losses.Count > 0 ? Statistics.Median(losses) : null,
                    MedianSharpness: MedianSharpnessOf(completed),
                    MedianHessianEigenvalue: MedianOrNull(completed.Select(r => r.Analysis?.Hessian?.Eigenvalue)),
                    MedianAnalysisTrainLoss: MedianOrNull(Analysed(completed).Select(r => (double?)r.Analysis!.TrainLoss)),
                    // Per seed, then the median: test loss (final, as reported) minus the training loss at the final weights.
                    MedianGeneralisationGap: MedianOrNull(Analysed(completed).Where(r => r.FinalTestLoss is not null)
                        .Select(r => (double?)(r.FinalTestLoss!.Value - r.Analysis!.TrainLoss))),
                    MedianAnalysisTrainAccuracy: MedianOrNull(Analysed(completed).Select(r => r.Analysis!.TrainAccuracy)),
                    // Keskar et al.'s Table 2 terms: training accuracy at the final weights minus the test accuracy reported.
                    MedianAccuracyGap: MedianOrNull(Analysed(completed).Where(r => r.Analysis!.TrainAccuracy is not null)
                        .Select(r => (double?)(r.Analysis!.TrainAccuracy!.Value - r.FinalTestAccuracy!.Value))));
            }
            grids.Add(new ResultGrid(mode, spec.Grid.BatchSizes, spec.Grid.BaseLearningRates, cells));
        }
        return grids;
    }

    /// <summary>Median over seeds of each sharpness measure (keyed "full@0.001"); null when none was measured.</summary>
    private static IReadOnlyDictionary<string, double>? MedianSharpnessOf(IReadOnlyList<TrialResult> completed)
    {
        var byKey = completed.SelectMany(r => r.Analysis?.Sharpness ?? []).Where(m => double.IsFinite(m.Sharpness))
            .GroupBy(m => m.Key).ToDictionary(g => g.Key, g => Statistics.Median(g.Select(m => m.Sharpness).ToList()));
        return byKey.Count > 0 ? byKey : null;
    }

    /// <summary>Trials whose landscape analysis measured the training loss at their final weights.</summary>
    private static IEnumerable<TrialResult> Analysed(IEnumerable<TrialResult> completed) =>
        completed.Where(r => r.Analysis is { Error: null, EvaluationSubset: > 0 });

    private static double? MedianOrNull(IEnumerable<double?> values)
    {
        var present = values.OfType<double>().Where(double.IsFinite).ToList();
        return present.Count > 0 ? Statistics.Median(present) : null;
    }

    /// <summary>Base LR with the highest median accuracy for each batch size (null where no seed completed).</summary>
    public IReadOnlyList<(int BatchSize, double? BestBaseLearningRate, double? Accuracy)> BestLearningRatePerBatch()
    {
        var best = new List<(int, double?, double?)>();
        for (int b = 0; b < BatchSizes.Count; b++)
        {
            GridCell? top = null;
            for (int l = 0; l < BaseLearningRates.Count; l++)
                if (Cells[b, l].MedianAccuracy is double acc && (top?.MedianAccuracy is not double t || acc > t))
                    top = Cells[b, l];
            best.Add((BatchSizes[b], top?.BaseLearningRate, top?.MedianAccuracy));
        }
        return best;
    }
}
