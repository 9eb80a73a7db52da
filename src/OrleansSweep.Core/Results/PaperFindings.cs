using System.Globalization;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Results;

/// <summary>
/// One of the papers' claims checked against a study's results: what the paper says, what the data shows, and (where
/// the claim was measured) the per-seed margins and noise the verdict rests on.
/// </summary>
public sealed record Finding(string Id, string Claim, FindingVerdict Verdict, string Measured, FindingEvidence? Evidence = null)
{
    public static Finding Judged(string id, string claim, string measured, FindingEvidence evidence) =>
        new(id, claim, evidence.Verdict, measured, evidence);
}

/// <summary>
/// The papers' findings, computed from a study's results (never from expectations): Masters &amp; Luschi's small
/// batches reaching the best test accuracy without BN, the stable learning-rate range narrowing as the batch grows, the
/// best ghost-BN size; Keskar et al.'s large-batch solutions being sharper and generalising worse. Each is measured
/// once per seed (<see cref="FindingEvidence"/>): a verdict says whether the claim clears the seed-to-seed noise, at
/// the thresholds and confidence of the study's own <see cref="FindingsSpec"/>. A finding a study cannot speak to (no
/// ghost BN, no sharpness) is not applicable rather than passed.
/// </summary>
public static class PaperFindings
{
    /// <summary>Grid trials without a final result (pending, running, cancelled): findings over a partial grid mislead.</summary>
    public static int Unfinished(SweepSpec spec, IReadOnlyDictionary<string, TrialResult> results) =>
        GridExpander.Expand(spec).Count(t => results.GetValueOrDefault(t.TrialId)?.Status is not (TrialStatus.Completed or TrialStatus.Diverged or TrialStatus.Failed));

    public static IReadOnlyList<Finding> Check(SweepSpec spec, IReadOnlyDictionary<string, TrialResult> results)
    {
        var rules = spec.Findings ?? new FindingsSpec();
        var study = new SeedTable(spec, results);
        var grids = ResultGrid.Build(spec, results);
        var (eta, _) = spec.Training.LearningRateAxis;
        var findings = new List<Finding>(SmallBatchesBest(study, grids, eta, rules));
        findings.AddRange(StableRangeNarrows(study, grids, eta, rules));
        findings.Add(BestGhostBatch(study, grids, rules));
        findings.AddRange(LargeBatchSharperAndWorse(spec, study, grids, rules));
        return findings;
    }

    private static string Percent(double accuracy) => AccuracyFormat.Percent(accuracy) + "%";
    private static string Number(double value) => value.ToString("G3", CultureInfo.InvariantCulture);
    private static string Points(double fraction) => (100 * fraction).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>" (per seed: s0 +1.2, s1 +0.8)": the margins a verdict rests on, in the finding's unit.</summary>
    private static string PerSeed(FindingEvidence evidence, Func<double, string> format) =>
        "; per seed: " + string.Join(", ", evidence.PerSeed.Select(s => $"s{s.Seed} {(s.Margin >= 0 ? "+" : "")}{format(s.Margin)}"));

    /// <summary>
    /// A study's trials by cell and seed. A seed's accuracy in a "best accuracy" comparison: its final test accuracy if it
    /// converged, chance if it diverged (a diverged network predicts nothing better), none if it failed or has no result.
    /// </summary>
    private sealed class SeedTable(SweepSpec spec, IReadOnlyDictionary<string, TrialResult> results)
    {
        public IReadOnlyList<TrialSpec> Trials { get; } = GridExpander.Expand(spec);
        public IReadOnlyList<int> Seeds => spec.Grid.Seeds;

        public TrialResult? Result(TrialSpec trial) => results.GetValueOrDefault(trial.TrialId);

        public IEnumerable<TrialSpec> Where(string bnMode, int? batchSize = null, int? seed = null) =>
            Trials.Where(t => t.BnMode == bnMode && (batchSize is not int m || t.BatchSize == m) && (seed is not int s || t.Seed == s));

        public double? ComparableAccuracy(TrialSpec trial) => Result(trial) switch
        {
            { Status: TrialStatus.Completed, FinalTestAccuracy: double accuracy } => accuracy,
            { Status: TrialStatus.Diverged } => ChanceLevel.Accuracy,
            _ => null,
        };

        /// <summary>The best comparable accuracy over <paramref name="trials"/> (null: none has one).</summary>
        public double? Best(IEnumerable<TrialSpec> trials) =>
            trials.Select(ComparableAccuracy).OfType<double>().DefaultIfEmpty(double.NaN).Max() is var best && double.IsNaN(best) ? null : best;
    }

    /// <summary>
    /// Masters &amp; Luschi: the best test accuracy is reached with m &lt;= the small-batch limit, without BN (always checked,
    /// not applicable without such a grid) and with each BN mode whose grid has batch sizes on both sides of the limit.
    /// </summary>
    private static IEnumerable<Finding> SmallBatchesBest(SeedTable study, IReadOnlyList<ResultGrid> grids, string eta, FindingsSpec rules)
    {
        int limit = rules.SmallBatchLimit;
        bool BothSides(ResultGrid g) => g.BatchSizes.Any(m => m <= limit) && g.BatchSizes.Any(m => m > limit);
        var noBn = grids.FirstOrDefault(g => g.BnMode == "none");
        if (noBn is null || !BothSides(noBn))
            yield return new Finding("small-batches-best-without-bn", $"Without BN the best test accuracy is reached at batch size m <= {limit} (Masters & Luschi, Sec. 3).",
                FindingVerdict.NotApplicable, $"needs a no-BN grid with batch sizes on both sides of {limit}.");
        foreach (var grid in grids.Where(BothSides))
            yield return SmallBatchesBest(study, grid, eta, rules);
    }

    private static Finding SmallBatchesBest(SeedTable study, ResultGrid grid, string eta, FindingsSpec rules)
    {
        int limit = rules.SmallBatchLimit;
        string id = grid.BnMode == "none" ? "small-batches-best-without-bn" : $"small-batches-best[{grid.BnMode}]";
        string claim = grid.BnMode == "none"
            ? $"Without BN the best test accuracy is reached at batch size m <= {limit} (Masters & Luschi, Sec. 3)."
            : $"With BN ({grid.BnMode}) the best test accuracy is still reached at batch size m <= {limit} (Masters & Luschi, Sec. 3-4).";
        var best = grid.BestLearningRatePerBatch().Where(b => b.Accuracy is not null).ToList();
        if (best.Count == 0) return new Finding(id, claim, FindingVerdict.NotApplicable, "no cell converged.");

        // Per seed: the best accuracy with a small batch minus the best with a large one (each over every LR).
        var margins = new List<SeedMargin>();
        foreach (int seed in study.Seeds)
        {
            var trials = study.Where(grid.BnMode, seed: seed).ToList();
            if (study.Best(trials.Where(t => t.BatchSize <= limit)) is double smallBest && study.Best(trials.Where(t => t.BatchSize > limit)) is double largeBest)
                margins.Add(new SeedMargin(seed, 100 * (smallBest - largeBest)));
        }
        var top = best.MaxBy(b => b.Accuracy!.Value);
        var bestLarge = best.Where(b => b.BatchSize > limit).OrderByDescending(b => b.Accuracy!.Value).Take(1).ToList();
        string measured = $"best {Percent(top.Accuracy!.Value)} at m = {top.BatchSize}, {eta} = {LearningRateFormat.Format(top.BestBaseLearningRate!.Value)}" +
                          (bestLarge is [var large] ? $"; best with m > {limit}: {Percent(large.Accuracy!.Value)} at m = {large.BatchSize}" : "") +
                          "; per batch: " + string.Join(", ", best.Select(b => $"{b.BatchSize}: {Percent(b.Accuracy!.Value)}")) +
                          FitAtBestCells(study, grid, best, rules);
        if (margins.Count == 0) return new Finding(id, claim, FindingVerdict.NotApplicable, measured + "; no seed has results on both sides.");
        var evidence = FindingEvidence.FromSeeds("accuracy points", margins, rules);
        return Finding.Judged(id, claim, measured + PerSeed(evidence, m => m.ToString("0.0", CultureInfo.InvariantCulture)), evidence);
    }

    /// <summary>
    /// Keskar et al. compare solutions that both fit the training set: a seed where one side did not (below
    /// <see cref="FindingsSpec.FittedTrainAccuracy"/>) has a smaller gap partly because it learned less, so it is named.
    /// </summary>
    private static string FittedPair(IEnumerable<(int Seed, TrialResult Small, TrialResult Large)> pairs, FindingsSpec rules)
    {
        var unfitted = new List<string>();
        foreach (var (seed, small, large) in pairs)
            foreach (var (side, result) in new[] { ("SB", small), ("LB", large) })
                if (result.FinalWeightsTrainAccuracy is double train && train < rules.FittedTrainAccuracy) unfitted.Add($"{side} s{seed} ({Percent(train)})");
        return unfitted.Count == 0
            ? $"; both fitted the training set in every seed (>= {Percent(rules.FittedTrainAccuracy)})"
            : $"; not fitted (below {Percent(rules.FittedTrainAccuracy)}): {string.Join(", ", unfitted)}, so part of a gap difference is how far training got";
    }

    /// <summary>
    /// Optimisation or generalisation: the training accuracy at the final weights of each batch size's best cell beside
    /// its test accuracy. A large batch whose training accuracy is barely above its test accuracy is under-trained: its
    /// lower test accuracy is an optimisation gap, not a generalisation one.
    /// </summary>
    private static string FitAtBestCells(SeedTable study, ResultGrid grid, IReadOnlyList<(int BatchSize, double? BestBaseLearningRate, double? Accuracy)> best, FindingsSpec rules)
    {
        var parts = new List<string>();
        var unfitted = new List<string>();
        foreach (var b in best)
        {
            var fits = study.Where(grid.BnMode, b.BatchSize).Where(t => t.BaseLearningRate == b.BestBaseLearningRate)
                .Select(study.Result).Where(r => r?.FinalWeightsTrainAccuracy is not null && r.FinalWeightsTestAccuracy is not null).ToList();
            if (fits.Count == 0) continue;
            double train = Statistics.Median(fits.Select(r => r!.FinalWeightsTrainAccuracy!.Value));
            double gap = Statistics.Median(fits.Select(r => r!.FinalWeightsTrainAccuracy!.Value - r.FinalWeightsTestAccuracy!.Value));
            parts.Add($"{b.BatchSize}: {Percent(train)} (gap {Points(gap)})");
            double lowest = fits.Min(r => r!.FinalWeightsTrainAccuracy!.Value);
            if (lowest < rules.FittedTrainAccuracy) unfitted.Add($"{b.BatchSize} ({Percent(lowest)})");
        }
        if (parts.Count == 0) return "";
        string fitted = unfitted.Count == 0
            ? $"; every seed of these cells fitted its training set (>= {Percent(rules.FittedTrainAccuracy)}), so the differences are in generalisation"
            : $"; not fitted (a seed below {Percent(rules.FittedTrainAccuracy)}): m = {string.Join(", ", unfitted)}, so part of the difference is how far training got";
        return "; training accuracy at the final weights of each best cell (train minus test, points): " + string.Join(", ", parts) + fitted;
    }

    /// <summary>
    /// A seed of a cell trained stably when it did not diverge and its final test accuracy reached the spec's multiple of
    /// chance: a network that never diverged but stayed at chance learned nothing.
    /// </summary>
    public static bool IsStable(TrialResult? result, FindingsSpec rules) =>
        result is { Status: TrialStatus.Completed, FinalTestAccuracy: double accuracy } && double.IsFinite(accuracy)
        && accuracy >= rules.StableAccuracyOverChance * ChanceLevel.Accuracy;

    /// <summary>
    /// Masters &amp; Luschi: the range of base LRs that train stably narrows as the batch grows. The range's width is the
    /// number of grid LRs that trained stably (<see cref="IsStable"/>). Per seed, Spearman's rank correlation between m
    /// and the width; the margin is how far it lies below the spec's threshold (-0.7 by default): the paper states a
    /// trend, so one borderline cell cannot decide it.
    /// </summary>
    private static IEnumerable<Finding> StableRangeNarrows(SeedTable study, IReadOnlyList<ResultGrid> grids, string eta, FindingsSpec rules)
    {
        if (!grids.Any(g => g.BatchSizes.Count >= 3 && g.BaseLearningRates.Count >= 3))
        {
            yield return new Finding("stable-range-narrows", $"The range of {eta} that trains stably narrows as the batch size grows (Masters & Luschi, Fig. 1 right).",
                FindingVerdict.NotApplicable, "needs a grid of at least 3 batch sizes and 3 learning rates.");
            yield break;
        }
        string stableMeans = $"stable: no seed diverged and every seed reached {Number(rules.StableAccuracyOverChance)}x chance ({Percent(rules.StableAccuracyOverChance * ChanceLevel.Accuracy)})";
        foreach (var grid in grids)
        {
            string id = $"stable-range-narrows[{grid.BnMode}]";
            string claim = $"The range of {eta} that trains stably narrows as the batch size grows (Masters & Luschi, Fig. 1 right); BN {grid.BnMode}.";
            if (grid.BatchSizes.Count < 3 || grid.BaseLearningRates.Count < 3) continue; // too small to speak to it
            var batches = grid.BatchSizes.Select(m => (double)m).ToList();

            var widths = new List<string>();
            var largest = new List<string>();
            var cellWidths = new List<double>();
            foreach (int m in grid.BatchSizes)
            {
                var stable = grid.BaseLearningRates.Where(lr =>
                {
                    var seeds = study.Where(grid.BnMode, m).Where(t => t.BaseLearningRate == lr).ToList();
                    return seeds.All(t => IsStable(study.Result(t), rules));
                }).ToList();
                cellWidths.Add(stable.Count);
                widths.Add($"{m}: {stable.Count} ({(stable.Count == 0 ? "none" : $"{LearningRateFormat.Format(stable[0])}..{LearningRateFormat.Format(stable[^1])}")})");
                if (stable.Count > 0)
                {
                    var top = study.Where(grid.BnMode, m).First(t => t.BaseLearningRate == stable[^1]);
                    largest.Add($"{m}: {LearningRateFormat.Format(stable[^1])} (eta {Number(top.LearningRate)})");
                }
                else largest.Add($"{m}: none");
            }
            double rho = Spearman(batches, cellWidths);
            string measured = $"stable LRs per batch ({stableMeans}): " + string.Join(", ", widths) +
                              $"; Spearman rho(m, width) = {rho.ToString("0.00", CultureInfo.InvariantCulture)}" +
                              $"; largest stable {eta} per batch: " + string.Join(", ", largest);

            // Every LR of the grid stable at every batch: the grid never reaches the edge of the stable range, so the widths
            // are all cut off at the grid's and say nothing about how the range changes with m (a rho of 0 would read as
            // "does not narrow").
            if (cellWidths.All(w => w == grid.BaseLearningRates.Count))
            {
                yield return new Finding(id, claim, FindingVerdict.NotApplicable,
                    measured + $"; every {eta} of the grid trained stably at every batch size, so the grid does not reach the edge of the stable range");
                continue;
            }

            var margins = new List<SeedMargin>();
            foreach (int seed in study.Seeds)
            {
                var seedWidths = grid.BatchSizes.Select(m => (double)study.Where(grid.BnMode, m, seed).Count(t => IsStable(study.Result(t), rules))).ToList();
                if (grid.BatchSizes.All(m => study.Where(grid.BnMode, m, seed).All(t => study.Result(t) is not null)))
                    margins.Add(new SeedMargin(seed, rules.NarrowingCorrelation - Spearman(batches, seedWidths)));
            }
            if (margins.Count == 0) { yield return new Finding(id, claim, FindingVerdict.NotApplicable, measured + "; no seed has a whole grid."); continue; }
            var evidence = FindingEvidence.FromSeeds($"rank correlation below {Number(rules.NarrowingCorrelation)}", margins, rules);
            yield return Finding.Judged(id, claim, measured + PerSeed(evidence, m => m.ToString("0.00", CultureInfo.InvariantCulture)), evidence);
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

    /// <summary>
    /// Masters &amp; Luschi Sec. 3.6: with the SGD batch fixed, the best BN (ghost) batch size lies in the spec's range
    /// (4..16). Per seed and SGD batch: the best accuracy (over the LRs) of a BN batch inside the range minus the best
    /// outside it; a seed's margin is the smallest over the SGD batches (the claim is for every one).
    /// </summary>
    private static Finding BestGhostBatch(SeedTable study, IReadOnlyList<ResultGrid> grids, FindingsSpec rules)
    {
        const string id = "best-ghost-bn-size";
        var (low, high) = (rules.GhostBestMin, rules.GhostBestMax);
        string claim = $"With the SGD batch fixed, the best BN batch size is between {low} and {high} (Masters & Luschi, Sec. 3.6).";
        var ghostGrids = grids.Where(g => g.BnMode.StartsWith("ghost:", StringComparison.Ordinal)).ToList();
        if (ghostGrids.Count == 0) return new Finding(id, claim, FindingVerdict.NotApplicable, "no ghost-BN grid in this study.");
        var candidates = grids.Where(g => g.BnMode == "batch" || g.BnMode.StartsWith("ghost:", StringComparison.Ordinal)).ToList();
        // BN batch of each mode at this SGD batch: ghost:b uses b (b >= m is the whole batch), "batch" uses m.
        int BnBatch(string mode, int m) => mode == "batch" ? m : Math.Min(m, BnMode.Parse(mode).GhostSize);

        var parts = new List<string>();
        var judged = new List<int>();
        foreach (int m in ghostGrids[0].BatchSizes)
        {
            var best = candidates
                .Select(g => (Bn: BnBatch(g.BnMode, m), Best: g.BestLearningRatePerBatch().Single(b => b.BatchSize == m)))
                .Where(c => c.Best.Accuracy is not null)
                .GroupBy(c => c.Bn).Select(g => (Bn: g.Key, Accuracy: g.Max(c => c.Best.Accuracy!.Value)))
                .OrderBy(c => c.Bn).ToList();
            if (best.Count == 0) { parts.Add($"m = {m}: no cell converged"); continue; }
            var top = best.MaxBy(c => c.Accuracy);
            parts.Add($"m = {m}: best BN batch {top.Bn} ({Percent(top.Accuracy)}; " + string.Join(", ", best.Select(c => $"{c.Bn}: {Percent(c.Accuracy)}")) + ")");
            var bnBatches = candidates.Select(g => BnBatch(g.BnMode, m)).ToList();
            if (bnBatches.Any(b => b >= low && b <= high) && bnBatches.Any(b => b < low || b > high)) judged.Add(m);
        }
        string measured = "medians over seeds: " + string.Join("; ", parts);
        if (judged.Count == 0)
            return new Finding(id, claim, FindingVerdict.NotApplicable, measured + $"; needs BN batches both inside and outside {low}..{high}.");

        var margins = new List<SeedMargin>();
        foreach (int seed in study.Seeds)
        {
            var perBatch = judged.Select(m =>
            {
                var trials = candidates.SelectMany(g => study.Where(g.BnMode, m, seed).Select(t => (Bn: BnBatch(g.BnMode, m), Trial: t))).ToList();
                double? inside = study.Best(trials.Where(c => c.Bn >= low && c.Bn <= high).Select(c => c.Trial));
                double? outside = study.Best(trials.Where(c => c.Bn < low || c.Bn > high).Select(c => c.Trial));
                return inside is double i && outside is double o ? 100 * (i - o) : (double?)null;
            }).ToList();
            if (perBatch.All(v => v is not null)) margins.Add(new SeedMargin(seed, perBatch.Min(v => v!.Value)));
        }
        if (margins.Count == 0) return new Finding(id, claim, FindingVerdict.NotApplicable, measured + "; no seed has results inside and outside the range.");
        var evidence = FindingEvidence.FromSeeds($"accuracy points (best BN batch in {low}..{high} minus best outside)", margins, rules);
        return Finding.Judged(id, claim, measured + PerSeed(evidence, v => v.ToString("0.0", CultureInfo.InvariantCulture)), evidence);
    }

    /// <summary>
    /// The sharpness measure a verdict is judged by: the spec's choice, else the scale-invariant "filter" space at the
    /// largest eps (Keskar's box depends on the weights' scale, Dinh et al. 2017), else the full space at the largest eps
    /// (Keskar's Table 3 leads with it), else any.
    /// </summary>
    private static string? HeadlineMeasure(IReadOnlyList<string> keys, FindingsSpec rules)
    {
        if (rules.SharpnessMeasure is { } chosen) return keys.Contains(chosen) ? chosen : null;
        string? Largest(string space) => keys.Where(k => k.StartsWith(space + "@", StringComparison.Ordinal))
            .OrderByDescending(k => double.Parse(k[(space.Length + 1)..], CultureInfo.InvariantCulture)).FirstOrDefault();
        return Largest("filter") ?? Largest("full") ?? keys.FirstOrDefault();
    }

    /// <summary>
    /// The training loss the search reached inside the box (medians, LB vs SB), and a warning when it passes chance
    /// level's loss, ln(classes): a box that wrecks the network measures how far its edge is from the weights, not the
    /// shape of the minimum it was meant to probe.
    /// </summary>
    private static string LossInsideTheBox(IEnumerable<TrialResult> large, IEnumerable<TrialResult> small, string key)
    {
        static List<double> MaxLoss(IEnumerable<TrialResult> side, string key) => [.. side
            .Select(r => r.Analysis?.Sharpness.FirstOrDefault(m => m.Key == key)?.MaxLoss).OfType<double>().Where(double.IsFinite)];
        var (lb, sb) = (MaxLoss(large, key), MaxLoss(small, key));
        if (lb.Count == 0 || sb.Count == 0) return "";
        double chance = Math.Log(ChanceLevel.Classes);
        double lbMedian = Statistics.Median(lb), sbMedian = Statistics.Median(sb);
        string text = $"; training loss reached inside the {key} box: LB {Number(lbMedian)} vs SB {Number(sbMedian)} (chance: {Number(chance)})";
        return lbMedian > chance || sbMedian > chance
            ? text + "; warning: the box takes the network past chance-level loss, so it measures the box's reach more than the minimum's shape"
            : text;
    }

    /// <summary>
    /// Keskar et al.: the large-batch solution is sharper (Table 3: at least ~10x in eps-sharpness) and generalises
    /// worse. SB = the smallest batch size, LB = the largest, each at its best learning rate; seeds paired.
    /// </summary>
    private static IEnumerable<Finding> LargeBatchSharperAndWorse(SweepSpec spec, SeedTable study, IReadOnlyList<ResultGrid> grids, FindingsSpec rules)
    {
        const string sharpId = "large-batch-sharper";
        string sharpClaim = $"The large-batch solution's eps-sharpness is at least {Number(rules.SharpnessRatio)}x the small batch's (Keskar et al., Table 3).";
        const string worseId = "large-batch-generalises-worse";
        // Keskar's claim is a generalisation gap: both solutions fit the training set alike, the large batch's does worse
        // on test data. Lower test accuracy alone would also follow from a large batch that simply trained less.
        // The gap is the paper's: training accuracy minus test accuracy, both at the final weights. A loss gap would not do
        // once both fit the training set: an overfitted small batch's test cross-entropy grows with its confident mistakes
        // while its test accuracy holds. Results from before training accuracy was recorded fall back to the loss gap.
        const string worseClaim = "The large-batch solution generalises worse: lower test accuracy and a larger generalisation gap " +
            "(training minus test accuracy, both at the final weights) than the small batch's (Keskar et al., Table 2).";
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
        // The two cells' trials, paired by seed.
        var pairs = study.Seeds.Select(seed => (Seed: seed,
                Small: study.Result(study.Where(grid.BnMode, small.BatchSize, seed).Single(t => t.BaseLearningRate == small.BaseLearningRate)),
                Large: study.Result(study.Where(grid.BnMode, large.BatchSize, seed).Single(t => t.BaseLearningRate == large.BaseLearningRate))))
            .Where(p => p.Small?.Status == TrialStatus.Completed && p.Large?.Status == TrialStatus.Completed)
            .Select(p => (p.Seed, Small: p.Small!, Large: p.Large!)).ToList();

        var keys = small.MedianSharpness!.Keys.Intersect(large.MedianSharpness!.Keys).OrderBy(k => k, StringComparer.Ordinal).ToList();
        string? headline = HeadlineMeasure(keys, rules);
        var ratios = keys.Select(k => $"{k}: {Number(large.MedianSharpness[k])} / {Number(small.MedianSharpness[k])} = {Number(large.MedianSharpness[k] / small.MedianSharpness[k])}x").ToList();
        if (large.MedianHessianEigenvalue is double le && small.MedianHessianEigenvalue is double se)
            ratios.Add($"top Hessian eigenvalue: {Number(le)} / {Number(se)} = {Number(le / se)}x");
        string pair = $"LB m = {large.BatchSize} vs SB m = {small.BatchSize} (medians over seeds)";
        string measured = $"{pair}; " + string.Join("; ", ratios);
        var nonMonotone = pairs.SelectMany(p => new[] { p.Small, p.Large }).Where(r => r.Analysis is { } a && a.NonMonotoneSharpnessPairs().Count > 0)
            .Select(r => r.TrialId).ToList();
        if (nonMonotone.Count > 0)
            measured += $"; warning: sharpness falls as eps grows in {string.Join(", ", nonMonotone)} (the maximiser was not found at the larger eps)";
        if (headline is null)
            yield return new Finding(sharpId, sharpClaim, FindingVerdict.NotApplicable, $"no sharpness measure common to both batch sizes{(rules.SharpnessMeasure is { } m ? $" named {m}" : "")}.");
        else
        {
            static double? Measure(TrialResult r, string key) =>
                r.Analysis?.Sharpness.FirstOrDefault(m => m.Key == key)?.Sharpness is double v && double.IsFinite(v) && v > 0 ? v : null;
            var margins = pairs.Where(p => Measure(p.Small, headline) is not null && Measure(p.Large, headline) is not null)
                .Select(p => new SeedMargin(p.Seed, Math.Log10(Measure(p.Large, headline)!.Value / Measure(p.Small, headline)!.Value) - Math.Log10(rules.SharpnessRatio)))
                .ToList();
            if (margins.Count == 0)
                yield return new Finding(sharpId, sharpClaim, FindingVerdict.NotApplicable, measured + $"; no seed has {headline} at both batch sizes.");
            else
            {
                var evidence = FindingEvidence.FromSeeds($"log10 of the LB/SB ratio of {headline} above log10({Number(rules.SharpnessRatio)})", margins, rules);
                yield return Finding.Judged(sharpId, sharpClaim, measured + $"; judged by {headline}, LB/SB per seed: " +
                    string.Join(", ", margins.Select(s => $"s{s.Seed} {Number(rules.SharpnessRatio * Math.Pow(10, s.Margin))}x")) +
                    LossInsideTheBox(pairs.Select(p => p.Large), pairs.Select(p => p.Small), headline), evidence);
            }
        }

        var withAccuracy = pairs.Where(p => p.Small.FinalWeightsTrainAccuracy is not null && p.Large.FinalWeightsTrainAccuracy is not null
                                            && p.Small.FinalWeightsTestAccuracy is not null && p.Large.FinalWeightsTestAccuracy is not null).ToList();
        if (withAccuracy.Count > 0)
        {
            // Per seed, the smaller of the two differences the claim needs: SB minus LB test accuracy, LB minus SB gap.
            double Gap(TrialResult r) => r.FinalWeightsTrainAccuracy!.Value - r.FinalWeightsTestAccuracy!.Value;
            var margins = withAccuracy.Select(p => new SeedMargin(p.Seed, 100 * Math.Min(
                p.Small.FinalWeightsTestAccuracy!.Value - p.Large.FinalWeightsTestAccuracy!.Value, Gap(p.Large) - Gap(p.Small)))).ToList();
            double Median(Func<TrialResult, double> value, bool largeSide) => Statistics.Median(withAccuracy.Select(p => value(largeSide ? p.Large : p.Small)));
            var evidence = FindingEvidence.FromSeeds("accuracy points (the smaller of: SB minus LB test accuracy, LB minus SB gap)", margins, rules);
            yield return Finding.Judged(worseId, worseClaim,
                $"{pair}: test accuracy at the final weights {Percent(Median(r => r.FinalWeightsTestAccuracy!.Value, true))} vs " +
                $"{Percent(Median(r => r.FinalWeightsTestAccuracy!.Value, false))}; training accuracy at the final weights " +
                $"{Percent(Median(r => r.FinalWeightsTrainAccuracy!.Value, true))} vs {Percent(Median(r => r.FinalWeightsTrainAccuracy!.Value, false))}; " +
                $"generalisation gap {Number(100 * Median(Gap, true))} vs {Number(100 * Median(Gap, false))} points" +
                FittedPair(withAccuracy.Select(p => (p.Seed, p.Small, p.Large)), rules) +
                PerSeed(evidence, v => v.ToString("0.0", CultureInfo.InvariantCulture)), evidence);
            yield break;
        }
        var withLoss = pairs.Where(p => p.Small.Analysis is { Error: null, EvaluationSubset: > 0 } && p.Large.Analysis is { Error: null, EvaluationSubset: > 0 }
                                        && p.Small.FinalTestLoss is not null && p.Large.FinalTestLoss is not null && p.Small.FinalTestAccuracy is not null
                                        && p.Large.FinalTestAccuracy is not null).ToList();
        if (withLoss.Count == 0)
        {
            yield return new Finding(worseId, worseClaim, FindingVerdict.NotApplicable, "one of the two has no converged, analysed seed.");
            yield break;
        }
        {
            // Results analysed before training accuracy was recorded: the gap as test minus training loss, in nats, and
            // the test accuracy (the five-epoch median, all these results kept) checked as a side condition.
            double LossGap(TrialResult r) => r.FinalTestLoss!.Value - r.Analysis!.TrainLoss;
            var margins = withLoss.Select(p => new SeedMargin(p.Seed, LossGap(p.Large) - LossGap(p.Small))).ToList();
            double Median(Func<TrialResult, double> value, bool largeSide) => Statistics.Median(withLoss.Select(p => value(largeSide ? p.Large : p.Small)));
            double la = Median(r => r.FinalTestAccuracy!.Value, true), sa = Median(r => r.FinalTestAccuracy!.Value, false);
            var evidence = FindingEvidence.FromSeeds("nats (LB minus SB loss gap)", margins, rules);
            string measuredLoss = $"{pair}: test accuracy {Percent(la)} vs {Percent(sa)}; generalisation gap as test minus training loss " +
                                  $"(training accuracy was not recorded) {Number(Median(LossGap, true))} vs {Number(Median(LossGap, false))}; training loss at the final weights " +
                                  $"{Number(Median(r => r.Analysis!.TrainLoss, true))} vs {Number(Median(r => r.Analysis!.TrainLoss, false))}" +
                                  PerSeed(evidence, v => Number(v));
            yield return la < sa || evidence.Verdict != FindingVerdict.Holds
                ? Finding.Judged(worseId, worseClaim, measuredLoss, evidence)
                : new Finding(worseId, worseClaim, FindingVerdict.DoesNotHold, measuredLoss + "; the LB's test accuracy is not lower", evidence);
        }
    }
}
