using System.Text.RegularExpressions;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Core.Specs;

/// <summary>Checks a parsed spec; every message names the field and what was expected.</summary>
public static partial class SpecValidator
{
    public static readonly IReadOnlySet<string> KnownDatasets = new HashSet<string> { "fashion-mnist", "mnist", "cifar10" };
    public static readonly IReadOnlySet<string> KnownSchedules = new HashSet<string> { "step", "constant", "cosine" };
    /// <summary>Most intra-op threads a trial may ask for (OpenMP allocates per thread up front).</summary>
    public const int MaxThreads = 1024;

    // \A and \z, not ^ and $: in .NET '$' also matches before a final newline, so "tiny\n" would pass.
    /// <summary>The largest grid a sweep takes (a million cells), checked before any cell is laid out.</summary>
    public const long MaxCells = 1_000_000;

    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]{0,99}\z")]
    private static partial Regex NamePattern();

    public static IReadOnlyList<string> Validate(SweepSpec spec)
    {
        var errors = new List<string>();
        // Invariant culture: messages read the same on every machine ("Infinity", "0.5").
        void Check(bool ok, FormattableString message) { if (!ok) errors.Add(FormattableString.Invariant(message)); }

        Check(spec.Name is not null && NamePattern().IsMatch(spec.Name),
            $"name: '{spec.Name}' is not a valid sweep name (expected 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit).");

        var d = spec.Dataset;
        Check(KnownDatasets.Contains(d.Name), $"dataset.name: unknown dataset '{d.Name}' (expected one of: {string.Join(", ", KnownDatasets)}).");
        Check(d.TrainSubset is null or > 0, $"dataset.trainSubset: {d.TrainSubset} (expected a positive number of images, or omit it for the whole set).");
        Check(d.TestSubset is null or > 0, $"dataset.testSubset: {d.TestSubset} (expected a positive number of images, or omit it for the whole set).");
        Check(d.Path is null || d.Path.Trim().Length > 0, $"dataset.path: empty (expected a directory, or omit it for the system location).");
        Check(d.Path is null || !d.Path.Any(char.IsControl),
            $"dataset.path: '{d.Path}' holds a control character such as NUL or a line break (expected a directory path).");
        Check(d.Path is not null || d.Name is not ("mnist" or "cifar10"),
            $"dataset.path: required for {d.Name} (expected the directory holding its files; only fashion-mnist has a system location).");

        Check(ModelArchitecture.IsKnown(spec.Model.Architecture),
            $"model.architecture: unknown model '{spec.Model.Architecture}' (expected one of: {string.Join(", ", ModelArchitecture.Known)}).");

        var t = spec.Training;
        Check(t.Epochs is >= 1 and <= 10_000, $"training.epochs: {t.Epochs} (expected 1 to 10000).");
        Check(double.IsFinite(t.WeightDecay) && t.WeightDecay >= 0, $"training.weightDecay: {t.WeightDecay} (expected a finite number >= 0).");
        Check(double.IsFinite(t.Momentum) && t.Momentum is >= 0 and < 1, $"training.momentum: {t.Momentum} (expected 0 <= momentum < 1).");
        Check(t.Optimizer is null or "sgd" or "adam", $"training.optimizer: unknown optimizer '{t.Optimizer}' (expected sgd or adam).");
        Check(t.Optimizer != "adam" || t.Momentum == 0,
            $"training.momentum: {t.Momentum} with optimizer adam (expected 0 or omitted: momentum is SGD's; Adam uses beta1 = 0.9).");
        Check(t.LearningRateScaling is null or "linear" or "none",
            $"training.learningRateScaling: unknown scaling '{t.LearningRateScaling}' (expected linear: eta = m * eta~, or none: eta = eta~ for every batch size).");
        Check(KnownSchedules.Contains(t.Schedule), $"training.schedule: unknown schedule '{t.Schedule}' (expected one of: {string.Join(", ", KnownSchedules)}).");
        Check(double.IsFinite(t.DivergenceFactor) && t.DivergenceFactor > 1, $"training.divergenceFactor: {t.DivergenceFactor} (expected a finite number > 1).");
        Check(t.EvaluationBatchSize >= 1, $"training.evaluationBatchSize: {t.EvaluationBatchSize} (expected >= 1).");
        Check(t.Threads is null or (>= 1 and <= MaxThreads), $"training.threads: {t.Threads} (expected 1 to {MaxThreads} intra-op threads per trial).");
        Check(t.CheckpointEvery >= 0, $"training.checkpointEvery: {t.CheckpointEvery} (expected 0 for never, or a number of epochs >= 1).");

        var g = spec.Grid;
        Check(g.BatchSizes.Count > 0, $"grid.batchSizes: empty (expected at least one batch size).");
        foreach (int m in g.BatchSizes)
        {
            Check(m >= 1, $"grid.batchSizes: {m} (expected batch sizes >= 1).");
            Check(d.TrainSubset is not int n || m <= n, $"grid.batchSizes: {m} is larger than dataset.trainSubset ({d.TrainSubset}).");
        }
        CheckDistinct(g.BatchSizes, "grid.batchSizes", errors);

        Check(g.BaseLearningRates.Count > 0, $"grid.baseLearningRates: empty (expected at least one base learning rate).");
        foreach (double lr in g.BaseLearningRates)
            Check(double.IsFinite(lr) && lr > 0, $"grid.baseLearningRates: {lr} (expected finite learning rates > 0).");
        CheckDistinct(g.BaseLearningRates, "grid.baseLearningRates", errors);
        // eta = m x eta~ is checked only for valid eta~ (a NaN or infinite eta~ is one problem, said once above).
        if (t.LearningRateScaling is null or "linear" && g.BatchSizes.Count > 0 && g.BaseLearningRates.Count > 0
            && g.BaseLearningRates.All(lr => double.IsFinite(lr) && lr > 0))
        {
            double largest = g.BatchSizes.Max() * g.BaseLearningRates.Max();
            Check(double.IsFinite(largest) && largest < 1e6,
                $"grid.baseLearningRates: {g.BaseLearningRates.Max()} times batch size {g.BatchSizes.Max()} is a learning rate of {largest:G3} (expected eta = m x eta~ below 1e6).");
        }
        long cells = (long)g.BatchSizes.Count * g.BaseLearningRates.Count * Math.Max(1, g.BnModes.Count) * Math.Max(1, g.Seeds.Count);
        Check(cells <= MaxCells, $"grid: {cells:N0} cells (expected at most {MaxCells:N0}: batch sizes x base LRs x BN modes x seeds).");

        Check(g.BnModes.Count > 0, $"grid.bnModes: empty (expected at least one of none, batch, ghost:<size>).");
        var modes = new List<BnMode>();
        foreach (string text in g.BnModes)
        {
            if (!BnMode.TryParse(text, out var mode))
            {
                errors.Add(FormattableString.Invariant($"grid.bnModes: unknown BN mode '{text}' (expected none, batch or ghost:<size> with size >= 1)."));
                continue;
            }
            modes.Add(mode);
            if (mode.Kind == BnKind.Ghost)
                foreach (int m in g.BatchSizes.Where(m => m >= 1 && m % mode.GhostSize != 0))
                    errors.Add(FormattableString.Invariant($"grid.bnModes: ghost BN size {mode.GhostSize} does not divide batch size {m} (the SGD batch must split into whole ghost batches)."));
        }
        CheckDistinct(modes, "grid.bnModes", errors);

        Check(g.Seeds.Count > 0, $"grid.seeds: empty (expected at least one seed).");
        foreach (int s in g.Seeds) Check(s >= 0, $"grid.seeds: {s} (expected seeds >= 0).");
        CheckDistinct(g.Seeds, "grid.seeds", errors);

        Check(spec.Execution.MaxConcurrentTrials is null or >= 1,
            $"execution.maxConcurrentTrials: {spec.Execution.MaxConcurrentTrials} (expected >= 1, or omit it to use every device slot).");
        if (spec.Analysis is { } analysis) ValidateAnalysis(spec, analysis, errors);
        if (spec.Findings is { } findings) ValidateFindings(findings, errors);
        return errors;
    }

    public static readonly IReadOnlySet<string> KnownSharpnessSpaces = new HashSet<string> { "full", "random", "filter" };

    private static void ValidateAnalysis(SweepSpec spec, AnalysisSpec a, List<string> errors)
    {
        void Check(bool ok, FormattableString message) { if (!ok) errors.Add(FormattableString.Invariant(message)); }

        Check(a.EvaluationSubset >= 1, $"analysis.evaluationSubset: {a.EvaluationSubset} (expected a positive number of training images).");
        Check(spec.Dataset.TrainSubset is not int n || a.EvaluationSubset <= n,
            $"analysis.evaluationSubset: {a.EvaluationSubset} is larger than dataset.trainSubset ({spec.Dataset.TrainSubset}).");
        if (a.Sharpness is { } s)
        {
            Check(s.Epsilons.Count > 0, $"analysis.sharpness.epsilons: empty (expected at least one, e.g. [1e-3, 5e-4]).");
            foreach (double eps in s.Epsilons)
                Check(double.IsFinite(eps) && eps > 0, $"analysis.sharpness.epsilons: {eps} (expected finite numbers > 0).");
            CheckDistinct(s.Epsilons, "analysis.sharpness.epsilons", errors);
            Check(s.Spaces.Count > 0, $"analysis.sharpness.spaces: empty (expected one or more of full, random, filter).");
            foreach (string space in s.Spaces)
                Check(KnownSharpnessSpaces.Contains(space), $"analysis.sharpness.spaces: unknown space '{space}' (expected full, random or filter).");
            CheckDistinct(s.Spaces, "analysis.sharpness.spaces", errors);
            Check(s.SubspaceDimension is >= 1 and <= 10_000, $"analysis.sharpness.subspaceDimension: {s.SubspaceDimension} (expected 1 to 10000).");
            Check(s.Iterations is >= 1 and <= 10_000, $"analysis.sharpness.iterations: {s.Iterations} (expected 1 to 10000).");
        }
        if (a.Hessian is { } h)
        {
            Check(h.MaxIterations is >= 1 and <= 10_000, $"analysis.hessian.maxIterations: {h.MaxIterations} (expected 1 to 10000).");
            Check(double.IsFinite(h.Tolerance) && h.Tolerance > 0, $"analysis.hessian.tolerance: {h.Tolerance} (expected a finite number > 0).");
        }
        var g = spec.Grid;
        for (int i = 0; i < a.Interpolations.Count; i++)
        {
            var interpolation = a.Interpolations[i];
            string at = $"analysis.interpolations[{i}]";
            Check(interpolation.Name is not null && NamePattern().IsMatch(interpolation.Name),
                $"{at}.name: '{interpolation.Name}' (expected 1-100 letters, digits, '.', '_' or '-').");
            Check(interpolation.Points is >= 2 and <= 1000, $"{at}.points: {interpolation.Points} (expected 2 to 1000).");
            Check(interpolation.BnStatistics is null || InterpolationBnStatistics.Known.Contains(interpolation.BnStatistics),
                $"{at}.bnStatistics: '{interpolation.BnStatistics}' (expected {string.Join(" or ", InterpolationBnStatistics.Known)}).");
            foreach (var (cell, which) in new[] { (interpolation.Small, "small"), (interpolation.Large, "large") })
            {
                if (cell is null) continue;
                Check(g.BatchSizes.Contains(cell.BatchSize), $"{at}.{which}.batchSize: {cell.BatchSize} is not in grid.batchSizes.");
                Check(cell.BaseLearningRate is not double lr || g.BaseLearningRates.Contains(lr),
                    $"{at}.{which}.baseLearningRate: {cell.BaseLearningRate} is not in grid.baseLearningRates (omit it for the batch size's best).");
                Check(cell.BnMode is null || (BnMode.TryParse(cell.BnMode, out var mode) && g.BnModes.Any(m => BnMode.TryParse(m, out var gm) && gm == mode)),
                    $"{at}.{which}.bnMode: '{cell.BnMode}' is not in grid.bnModes.");
                Check(cell.Seed is not int seed || g.Seeds.Contains(seed), $"{at}.{which}.seed: {cell.Seed} is not in grid.seeds.");
            }
            Check(interpolation.Small?.BnMode == interpolation.Large?.BnMode,
                $"{at}: small and large use different BN modes (expected the same network on both ends).");
        }
        CheckDistinct(a.Interpolations.Select(i => i.Name), "analysis.interpolations names", errors);
    }

    private static void ValidateFindings(FindingsSpec f, List<string> errors)
    {
        void Check(bool ok, FormattableString message) { if (!ok) errors.Add(FormattableString.Invariant(message)); }

        Check(double.IsFinite(f.Confidence) && f.Confidence is > 0 and < 1, $"findings.confidence: {f.Confidence} (expected a number between 0 and 1, e.g. 0.9).");
        Check(f.MinSeeds >= 2, $"findings.minSeeds: {f.MinSeeds} (expected a seed count >= 2, e.g. 3: one seed has no noise estimate).");
        Check(double.IsFinite(f.StableAccuracyOverChance) && f.StableAccuracyOverChance is >= 0 and < ChanceLevel.Classes,
            $"findings.stableAccuracyOverChance: {f.StableAccuracyOverChance} (expected a multiple of chance accuracy from 0 to below {ChanceLevel.Classes}, e.g. 2).");
        Check(f.SmallBatchLimit >= 1, $"findings.smallBatchLimit: {f.SmallBatchLimit} (expected a batch size >= 1).");
        Check(double.IsFinite(f.FittedTrainAccuracy) && f.FittedTrainAccuracy is > 0 and <= 1,
            $"findings.fittedTrainAccuracy: {f.FittedTrainAccuracy} (expected a training accuracy above 0 and at most 1, e.g. 0.99).");
        Check(double.IsFinite(f.NarrowingCorrelation) && f.NarrowingCorrelation is >= -1 and <= 1,
            $"findings.narrowingCorrelation: {f.NarrowingCorrelation} (expected a rank correlation from -1 to 1, e.g. -0.7).");
        Check(f.GhostBestMin >= 1 && f.GhostBestMax >= f.GhostBestMin,
            $"findings.ghostBestMin / ghostBestMax: {f.GhostBestMin} / {f.GhostBestMax} (expected 1 <= ghostBestMin <= ghostBestMax).");
        Check(double.IsFinite(f.SharpnessRatio) && f.SharpnessRatio > 0, $"findings.sharpnessRatio: {f.SharpnessRatio} (expected a finite ratio > 0, e.g. 10).");
        Check(f.SharpnessMeasure is null || System.Text.RegularExpressions.Regex.IsMatch(f.SharpnessMeasure, @"^[a-z]+@[0-9.eE+-]+$"),
            $"findings.sharpnessMeasure: '{f.SharpnessMeasure}' (expected space@eps, e.g. filter@0.001, or omit it).");
    }

    private static void CheckDistinct<T>(IEnumerable<T> values, string field, List<string> errors)
    {
        foreach (var duplicate in values.GroupBy(v => v).Where(grp => grp.Count() > 1))
            errors.Add(FormattableString.Invariant($"{field}: {duplicate.Key} appears {duplicate.Count()} times (each grid value must appear once, so each cell runs once)."));
    }
}
