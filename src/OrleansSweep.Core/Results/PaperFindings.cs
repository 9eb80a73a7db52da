using System.Globalization;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Core.Results;

public enum FindingVerdict { Holds, DoesNotHold, NotApplicable }

/// <summary>One of the papers' claims checked against a study's results: what the paper says, what the data shows.</summary>
public sealed record Finding(string Id, string Claim, FindingVerdict Verdict, string Measured);

/// <summary>
/// The papers' findings, computed from a study's results (never from expectations): Masters &amp; Luschi's small
/// batches generalising best without BN, the stable learning-rate range narrowing as the batch grows, the best
/// ghost-BN size; Keskar et al.'s large-batch solutions being sharper and generalising worse. A finding a study
/// cannot speak to (no ghost BN, no sharpness) is not applicable rather than passed.
/// </summary>
public static class PaperFindings
{
    /// <summary>Keskar et al.'s Table 3: large-batch sharpness is at least about 10x the small batch's.</summary>
    public const double KeskarSharpnessRatio = 10;
    public const int SmallBatchLimit = 32;
    public const int GhostBest = 4, GhostBestMax = 16;

    /// <summary>Grid trials without a final result (pending, running, cancelled): findings over a partial grid mislead.</summary>
    public static int Unfinished(SweepSpec spec, IReadOnlyDictionary<string, TrialResult> results) =>
        Trials.GridExpander.Expand(spec).Count(t => results.GetValueOrDefault(t.TrialId)?.Status is not (TrialStatus.Completed or TrialStatus.Diverged or TrialStatus.Failed));

    public static IReadOnlyList<Finding> Check(SweepSpec spec, IReadOnlyDictionary<string, TrialResult> results)
    {
        var grids = ResultGrid.Build(spec, results);
        var (eta, _) = spec.Training.LearningRateAxis;
        var findings = new List<Finding> { SmallBatchesGeneraliseBest(grids, eta) };
        findings.AddRange(StableRangeNarrows(grids, eta));
        findings.Add(BestGhostBatch(grids));
        findings.AddRange(LargeBatchSharperAndWorse(spec, grids));
        return findings;
    }

    private static string Percent(double accuracy) => AccuracyFormat.Percent(accuracy) + "%";
    private static string Number(double value) => value.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>Masters &amp; Luschi: without BN, the best test accuracy is reached with m &lt;= 32.</summary>
    private static Finding SmallBatchesGeneraliseBest(IReadOnlyList<ResultGrid> grids, string eta)
    {
        const string id = "small-batches-best-without-bn";
        string claim = $"Without BN the best test accuracy is reached at batch size m <= {SmallBatchLimit} (Masters & Luschi, Sec. 3).";
        var grid = grids.FirstOrDefault(g => g.BnMode == "none");
        if (grid is null || !grid.BatchSizes.Any(m => m <= SmallBatchLimit) || !grid.BatchSizes.Any(m => m > SmallBatchLimit))
            return new Finding(id, claim, FindingVerdict.NotApplicable, $"needs a no-BN grid with batch sizes on both sides of {SmallBatchLimit}.");
        var best = grid.BestLearningRatePerBatch().Where(b => b.Accuracy is not null).ToList();
        if (best.Count == 0) return new Finding(id, claim, FindingVerdict.NotApplicable, "no cell converged.");
        var top = best.MaxBy(b => b.Accuracy!.Value);
        var bestLarge = best.Where(b => b.BatchSize > SmallBatchLimit).OrderByDescending(b => b.Accuracy!.Value).Take(1).ToList();
        string measured = $"best {Percent(top.Accuracy!.Value)} at m = {top.BatchSize}, {eta} = {LearningRateFormat.Format(top.BestBaseLearningRate!.Value)}" +
                          (bestLarge is [var large] ? $"; best with m > {SmallBatchLimit}: {Percent(large.Accuracy!.Value)} at m = {large.BatchSize}" : "") +
                          "; per batch: " + string.Join(", ", best.Select(b => $"{b.BatchSize}: {Percent(b.Accuracy!.Value)}"));
        return new Finding(id, claim, top.BatchSize <= SmallBatchLimit ? FindingVerdict.Holds : FindingVerdict.DoesNotHold, measured);
    }

    /// <summary>Spearman's rank correlation at or below this: the width falls with the batch size as a trend.</summary>
    public const double NarrowingCorrelation = -0.7;

    /// <summary>
    /// Masters &amp; Luschi: the range of base LRs that train stably narrows as the batch grows. Stable = every seed
    /// converged (no divergence); the range's width is the number of grid LRs that are stable. The paper states a trend,
    /// so it holds when Spearman's rank correlation between m and the width is at most -0.7 and the largest batch's
    /// range is narrower than the smallest's: one borderline cell (a single seed diverging late) cannot decide it.
    /// </summary>
    private static IEnumerable<Finding> StableRangeNarrows(IReadOnlyList<ResultGrid> grids, string eta)
    {
        if (!grids.Any(g => g.BatchSizes.Count >= 3 && g.BaseLearningRates.Count >= 3))
        {
            yield return new Finding("stable-range-narrows", $"The range of {eta} that trains stably narrows as the batch size grows (Masters & Luschi, Fig. 1 right).",
                FindingVerdict.NotApplicable, "needs a grid of at least 3 batch sizes and 3 learning rates.");
            yield break;
        }
        foreach (var grid in grids)
        {
            string id = $"stable-range-narrows[{grid.BnMode}]";
            string claim = $"The range of {eta} that trains stably narrows as the batch size grows (Masters & Luschi, Fig. 1 right); BN {grid.BnMode}.";
            if (grid.BatchSizes.Count < 3 || grid.BaseLearningRates.Count < 3) continue; // too small to speak to it
            var widths = new List<(int Batch, int Width, string Range)>();
            for (int b = 0; b < grid.BatchSizes.Count; b++)
            {
                var stable = Enumerable.Range(0, grid.BaseLearningRates.Count)
                    .Where(l => grid[b, l] is { ConvergedFraction: 1.0 } && grid[b, l].IsFinished).ToList();
                string range = stable.Count == 0 ? "none"
                    : $"{LearningRateFormat.Format(grid.BaseLearningRates[stable[0]])}..{LearningRateFormat.Format(grid.BaseLearningRates[stable[^1]])}";
                widths.Add((grid.BatchSizes[b], stable.Count, range));
            }
            double rho = Spearman(widths.Select(w => (double)w.Batch).ToList(), widths.Select(w => (double)w.Width).ToList());
            bool narrower = widths[^1].Width < widths[0].Width;
            string measured = "stable LRs per batch: " + string.Join(", ", widths.Select(w => $"{w.Batch}: {w.Width} ({w.Range})")) +
                              $"; Spearman rho(m, width) = {rho.ToString("0.00", CultureInfo.InvariantCulture)}";
            yield return new Finding(id, claim, narrower && rho <= NarrowingCorrelation ? FindingVerdict.Holds : FindingVerdict.DoesNotHold, measured);
        }
    }

    /// <summary>Spearman's rank correlation (average ranks for ties); 0 when either side is constant.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        static double[] Ranks(IReadOnlyList<double> values)
        {
            var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
            var ranks = new double[values.Count];
            for (int start = 0; start < order.Length;)
            {
                int end = start;
                while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
                for (int k = start; k <= end; k++) ranks[order[k]] = (start + end) / 2.0 + 1;
                start = end + 1;
            }
            return ranks;
        }
        double[] rx = Ranks(x), ry = Ranks(y);
        double mx = rx.Average(), my = ry.Average();
        double sxy = rx.Zip(ry).Sum(p => (p.First - mx) * (p.Second - my));
        double sxx = rx.Sum(v => (v - mx) * (v - mx)), syy = ry.Sum(v => (v - my) * (v - my));
        return sxx == 0 || syy == 0 ? 0 : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>Masters &amp; Luschi Sec. 3.6: with the SGD batch fixed, the best BN (ghost) batch size is 4..16.</summary>
    private static Finding BestGhostBatch(IReadOnlyList<ResultGrid> grids)
    {
        const string id = "best-ghost-bn-size";
        string claim = $"With the SGD batch fixed, the best BN batch size is between {GhostBest} and {GhostBestMax} (Masters & Luschi, Sec. 3.6).";
        var ghostGrids = grids.Where(g => g.BnMode.StartsWith("ghost:", StringComparison.Ordinal)).ToList();
        if (ghostGrids.Count == 0) return new Finding(id, claim, FindingVerdict.NotApplicable, "no ghost-BN grid in this study.");
        var candidates = grids.Where(g => g.BnMode == "batch" || g.BnMode.StartsWith("ghost:", StringComparison.Ordinal)).ToList();
        var parts = new List<string>();
        bool holds = true;
        foreach (int m in ghostGrids[0].BatchSizes)
        {
            // BN batch of each mode at this SGD batch: ghost:b uses b (b >= m is the whole batch), "batch" uses m.
            var best = candidates
                .Select(g => (Bn: g.BnMode == "batch" ? m : Math.Min(m, BnMode.Parse(g.BnMode).GhostSize), Best: g.BestLearningRatePerBatch().Single(b => b.BatchSize == m)))
                .Where(c => c.Best.Accuracy is not null)
                .GroupBy(c => c.Bn).Select(g => (Bn: g.Key, Accuracy: g.Max(c => c.Best.Accuracy!.Value)))
                .OrderBy(c => c.Bn).ToList();
            if (best.Count == 0) { parts.Add($"m = {m}: no cell converged"); holds = false; continue; }
            var top = best.MaxBy(c => c.Accuracy);
            holds &= top.Bn is >= GhostBest and <= GhostBestMax;
            parts.Add($"m = {m}: best BN batch {top.Bn} ({Percent(top.Accuracy)}; " + string.Join(", ", best.Select(c => $"{c.Bn}: {Percent(c.Accuracy)}")) + ")");
        }
        return new Finding(id, claim, holds ? FindingVerdict.Holds : FindingVerdict.DoesNotHold, string.Join("; ", parts));
    }

    /// <summary>
    /// Keskar et al.: the large-batch solution is sharper (Table 3: at least ~10x in eps-sharpness) and generalises
    /// worse. SB = the smallest batch size, LB = the largest, each at its best learning rate, medians over seeds.
    /// </summary>
    private static IEnumerable<Finding> LargeBatchSharperAndWorse(SweepSpec spec, IReadOnlyList<ResultGrid> grids)
    {
        const string sharpId = "large-batch-sharper";
        string sharpClaim = $"The large-batch solution's eps-sharpness is at least {KeskarSharpnessRatio:0}x the small batch's (Keskar et al., Table 3).";
        const string worseId = "large-batch-generalises-worse";
        // Keskar's claim is a generalisation gap: both solutions fit the training set alike, the large batch's does worse
        // on test data. Lower test accuracy alone would also follow from a large batch that simply trained less.
        // The gap is the paper's: training accuracy (at the final weights) minus test accuracy. A loss gap would not do once
        // both fit the training set: an overfitted small batch's test cross-entropy grows with its confident mistakes
        // while its test accuracy holds. Results analysed before training accuracy was recorded fall back to the loss gap.
        const string worseClaim = "The large-batch solution generalises worse: lower test accuracy and a larger generalisation gap " +
            "(training minus test accuracy at the final weights) than the small batch's (Keskar et al., Table 2).";
        var grid = grids.FirstOrDefault(g => Enumerable.Range(0, g.BatchSizes.Count)
            .Count(b => Enumerable.Range(0, g.BaseLearningRates.Count).Any(l => g[b, l].MedianSharpness is not null)) >= 2);
        if (spec.Analysis?.Sharpness is null || grid is null)
        {
            const string why = "needs sharpness measured at two or more batch sizes.";
            yield return new Finding(sharpId, sharpClaim, FindingVerdict.NotApplicable, why);
            yield return new Finding(worseId, worseClaim, FindingVerdict.NotApplicable, why);
            yield break;
        }
        GridCell BestCell(int b) => Enumerable.Range(0, grid.BaseLearningRates.Count).Select(l => grid[b, l])
            .Where(c => c.MedianSharpness is not null).MaxBy(c => c.MedianAccuracy ?? double.MinValue)!;
        var measuredBatches = Enumerable.Range(0, grid.BatchSizes.Count)
            .Where(b => Enumerable.Range(0, grid.BaseLearningRates.Count).Any(l => grid[b, l].MedianSharpness is not null)).ToList();
        var small = BestCell(measuredBatches[0]);
        var large = BestCell(measuredBatches[^1]);

        var keys = small.MedianSharpness!.Keys.Intersect(large.MedianSharpness!.Keys).OrderBy(k => k, StringComparer.Ordinal).ToList();
        // The headline measure: full space at the largest eps (Keskar's Table 3 leads with it); the others are reported.
        string? headline = keys.Where(k => k.StartsWith("full@", StringComparison.Ordinal))
            .OrderByDescending(k => double.Parse(k["full@".Length..], CultureInfo.InvariantCulture)).FirstOrDefault() ?? keys.FirstOrDefault();
        var ratios = keys.Select(k => $"{k}: {Number(large.MedianSharpness[k])} / {Number(small.MedianSharpness[k])} = {Number(large.MedianSharpness[k] / small.MedianSharpness[k])}x").ToList();
        if (large.MedianHessianEigenvalue is double le && small.MedianHessianEigenvalue is double se)
            ratios.Add($"top Hessian eigenvalue: {Number(le)} / {Number(se)} = {Number(le / se)}x");
        string measured = $"LB m = {large.BatchSize} vs SB m = {small.BatchSize} (medians over seeds); " + string.Join("; ", ratios);
        if (headline is null)
            yield return new Finding(sharpId, sharpClaim, FindingVerdict.NotApplicable, "no sharpness measure common to both batch sizes.");
        else
        {
            double ratio = large.MedianSharpness[headline] / small.MedianSharpness[headline];
            yield return new Finding(sharpId, sharpClaim, ratio >= KeskarSharpnessRatio ? FindingVerdict.Holds : FindingVerdict.DoesNotHold, measured);
        }

        string pair = $"LB m = {large.BatchSize} vs SB m = {small.BatchSize} (medians over seeds)";
        if (small.MedianAccuracy is double sa && large.MedianAccuracy is double la
            && small.MedianAccuracyGap is double sga && large.MedianAccuracyGap is double lga)
            yield return new Finding(worseId, worseClaim, la < sa && lga > sga ? FindingVerdict.Holds : FindingVerdict.DoesNotHold,
                $"{pair}: test accuracy {Percent(la)} vs {Percent(sa)}; training accuracy at the final weights " +
                $"{Percent(large.MedianAnalysisTrainAccuracy!.Value)} vs {Percent(small.MedianAnalysisTrainAccuracy!.Value)}; " +
                $"generalisation gap {Number(100 * lga)} vs {Number(100 * sga)} points; training loss at the final weights " +
                $"{Number(large.MedianAnalysisTrainLoss!.Value)} vs {Number(small.MedianAnalysisTrainLoss!.Value)}" +
                (large.MedianGeneralisationGap is double llg && small.MedianGeneralisationGap is double slg
                    ? $"; test minus training loss {Number(llg)} vs {Number(slg)}" : ""));
        else if (small.MedianAccuracy is double sa2 && large.MedianAccuracy is double la2
            && small.MedianGeneralisationGap is double sg && large.MedianGeneralisationGap is double lg)
            yield return new Finding(worseId, worseClaim, la2 < sa2 && lg > sg ? FindingVerdict.Holds : FindingVerdict.DoesNotHold,
                $"{pair}: test accuracy {Percent(la2)} vs {Percent(sa2)}; generalisation gap as test minus training loss " +
                $"(training accuracy was not recorded) {Number(lg)} vs {Number(sg)}; training loss at the final weights " +
                $"{Number(large.MedianAnalysisTrainLoss!.Value)} vs {Number(small.MedianAnalysisTrainLoss!.Value)}");
        else
            yield return new Finding(worseId, worseClaim, FindingVerdict.NotApplicable, "one of the two has no converged, analysed seed.");
    }
}
