using System.Globalization;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using ScottPlot;
using OrleansSweep.Study;

namespace OrleansSweep.Reporting;

/// <summary>One figure of a report: a file stem, a caption, and the plot.</summary>
public sealed record Figure(string Name, string Caption, Plot Plot)
{
    /// <summary>
    /// The figure as SVG. A heatmap reaches SVG as a small bitmap (one pixel per cell) scaled up, which viewers smooth
    /// into gradients between cells; marked pixelated, every cell shows as the flat block it is.
    /// </summary>
    public string ToSvg() => Plot.GetSvgXml(StudyFigures.Width, StudyFigures.Height)
        .Replace("<image ", "<image image-rendering=\"pixelated\" style=\"image-rendering:pixelated\" ", StringComparison.Ordinal);
}

/// <summary>
/// The papers' figures drawn from a study's per-trial results with ScottPlot, so that a reader sees the seeds and not
/// only their summary:
/// <list type="bullet">
/// <item>test accuracy vs batch size (one line per learning rate) and vs learning rate (one line per batch size), as in
/// Masters &amp; Luschi Fig. 1: each seed's final accuracy is a small pale marker in its line's colour, the median over
/// seeds is the line; a seed that diverged is an × in its line's colour at its own x, in a strip below 0% with one row
/// per line, so which learning rate (or batch) diverged stays readable;</item>
/// <item>the stability grid: each cell coloured by its median test accuracy on a fixed 0-100% scale (the same colour
/// means the same accuracy in every report), hatched where every seed diverged, labelled "k/n diverged" where some did,
/// and framed where seeds converged but stayed below the stability threshold (<see cref="PaperFindings.IsStable"/>);</item>
/// <item>BN batch (ghost size) vs SGD batch (Sec. 3.6): with one SGD batch a line of accuracy vs BN batch (per-seed
/// points, median line); with several a heatmap on a fixed chance-to-100% scale;</item>
/// <item>eps-sharpness (and the top Hessian eigenvalue when measured) vs batch size at each batch's best learning rate
/// (Keskar et al.), per-seed points and the median, on a log10 axis: the values span decades;</item>
/// <item>the SB-LB line interpolation.</item>
/// </list>
/// Batch sizes and learning rates sit on log-2 axes. Lines and seeds are told apart by colour and marker shape, never
/// by dashes: Skia's SVG canvas cannot draw dash effects. Every caption says what is plotted over how many seeds.
/// </summary>
public static class StudyFigures
{
    public const int Width = 720;
    public const int Height = 480;

    /// <summary>Alpha of a per-seed marker: the seeds sit behind the median's line, lighter.</summary>
    private const double SeedAlpha = 0.45;
    /// <summary>Accuracy points (%) under which two seeds of a cell overlap and are spread on x.</summary>
    private const double OverlapPoints = 2.5;
    /// <summary>Height of one row of the diverged strip below 0%, in accuracy points.</summary>
    private const double StripRow = 5;
    private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();
    private static readonly Color DivergedHatch = Colors.DarkRed;
    private static readonly Color NearChanceFrame = Colors.Orange;

    /// <summary>The figures of a study read back (or written) whole.</summary>
    public static IReadOnlyList<Figure> Build(StudyResults study) =>
        Build(study.Spec, study.Results, StudyFiles.Interpolations(study.Results));

    /// <summary>The figures from the spec and whatever results exist so far (the live page draws a running sweep).</summary>
    public static IReadOnlyList<Figure> Build(SweepSpec spec, IReadOnlyDictionary<string, TrialResult> results, IReadOnlyList<InterpolationResult> interpolations)
    {
        var figures = new List<Figure>();
        var grids = ResultGrid.Build(spec, results);
        var seeds = new SeedCells(spec, results);
        var rules = spec.Findings ?? new FindingsSpec();
        var (eta, etaName) = spec.Training.LearningRateAxis;
        string overSeeds = seeds.OverSeeds;
        foreach (var grid in grids)
        {
            string bn = grid.BnMode.Replace(':', '-');
            figures.Add(new Figure($"accuracy-vs-batch-{bn}",
                $"Final test accuracy vs batch size m, one line per {eta}; BN {grid.BnMode}. Line: {overSeeds}; small pale markers: " +
                $"one per seed. x: a diverged seed, drawn at its own m in its line's row of the strip below 0%.",
                AccuracyLines(grid, seeds, byBatch: true, eta, etaName)));
            figures.Add(new Figure($"accuracy-vs-lr-{bn}",
                $"Final test accuracy vs {eta}, one line per batch size m (the stability view); BN {grid.BnMode}. Line: {overSeeds}; " +
                $"small pale markers: one per seed. x: a diverged seed, drawn at its own {eta} in its line's row of the strip below 0%.",
                AccuracyLines(grid, seeds, byBatch: false, eta, etaName)));
            figures.Add(new Figure($"stability-{bn}",
                $"Stability per cell, BN {grid.BnMode}, over {seeds.SeedsText}: colour = median final test accuracy of the seeds that did not " +
                $"diverge, on a fixed 0-100% scale; hatched grey = every seed diverged; \"k/n diverged\" = some did; orange frame = seeds that " +
                $"converged but stayed below {Number(rules.StableAccuracyOverChance)}x chance ({AccuracyFormat.Percent(rules.StableAccuracyOverChance * ChanceLevel.Accuracy)}%), " +
                $"which is not stable.",
                StabilityHeatmap(grid, seeds, rules, etaName)));
        }
        if (grids.Any(g => g.BnMode.StartsWith("ghost:", StringComparison.Ordinal)))
        {
            if (spec.Grid.BatchSizes.Count == 1)
                figures.Add(new Figure("accuracy-vs-bn-batch",
                    $"Test accuracy vs BN batch (ghost size, or the whole SGD batch) at SGD batch m = {spec.Grid.BatchSizes[0]}: one point per seed, " +
                    $"each the seed's best final test accuracy over the {spec.Grid.BaseLearningRates.Count} {eta} (as verify weighs it); line: the " +
                    $"median of those over {seeds.SeedsText}; x below 0%: a seed that diverged at every {eta}.",
                    GhostLine(grids, seeds, spec.Grid.BatchSizes[0])));
            else
                figures.Add(new Figure("bn-batch-vs-sgd-batch",
                    $"Best test accuracy over {eta} (the {eta} with the best median over {seeds.SeedsText}) for each BN batch (ghost size, or the " +
                    $"whole SGD batch) x SGD batch size; colour on a fixed scale from chance ({AccuracyFormat.Percent(ChanceLevel.Accuracy)}%) to 100%.",
                    GhostHeatmap(grids)));
        }
        foreach (string key in StudyFiles.SharpnessKeys(spec))
        {
            var (plot, dropped) = LogVsBatch(grids, seeds, r => r.Analysis?.Sharpness.FirstOrDefault(m => m.Key == key)?.Sharpness,
                $"eps-sharpness {key} (log scale)", $"eps-sharpness {key} vs batch size", eta);
            figures.Add(new Figure($"sharpness-{key.Replace('@', '-')}",
                $"eps-sharpness {key} at each batch size's best {eta} (by median accuracy), log10 axis: one point per seed, line: {overSeeds}." +
                Dropped(dropped), plot));
        }
        if (spec.Analysis?.Hessian is not null)
        {
            var (plot, dropped) = LogVsBatch(grids, seeds, r => r.Analysis?.Hessian?.Eigenvalue,
                "top Hessian eigenvalue (log scale)", "Top Hessian eigenvalue vs batch size", eta);
            figures.Add(new Figure("hessian-top-eigenvalue",
                $"Top eigenvalue of the training loss's Hessian at each batch size's best {eta} (by median accuracy), log10 axis: one point per " +
                $"seed, line: {overSeeds}." + Dropped(dropped), plot));
        }
        foreach (var line in interpolations)
            figures.Add(new Figure($"interpolation-{line.Name}",
                $"Loss and accuracy along alpha * x({line.LargeTrialId}) + (1 - alpha) * x({line.SmallTrialId}): one pair of trained networks (one seed each), not a median.",
                Interpolation(line)));
        return figures;
    }

    private static string Dropped(int count) => count == 0 ? "" : $" {count} value(s) <= 0 cannot sit on the log axis and are not drawn.";

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Pow2(double value) => LearningRateFormat.Format(value);

    private static void Log2Ticks(IAxis axis, IEnumerable<double> values, Func<double, string> label)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (double v in values) ticks.AddMajor(Math.Log2(v), label(v));
        axis.TickGenerator = ticks;
    }

    /// <summary>
    /// The trials of a study by cell, each with its result so far, in the spec's seed order: what the per-seed markers
    /// are drawn from.
    /// </summary>
    private sealed class SeedCells
    {
        private readonly Dictionary<(string Bn, int Batch, double Lr), List<(int SeedIndex, TrialResult? Result)>> cells = [];

        public SeedCells(SweepSpec spec, IReadOnlyDictionary<string, TrialResult> results)
        {
            Count = spec.Grid.Seeds.Count;
            foreach (var trial in GridExpander.Expand(spec))
            {
                var key = (trial.BnMode, trial.BatchSize, trial.BaseLearningRate);
                if (!cells.TryGetValue(key, out var list)) cells[key] = list = [];
                list.Add((IndexOf(spec.Grid.Seeds, trial.Seed), results.GetValueOrDefault(trial.TrialId)));
            }
            foreach (var list in cells.Values) list.Sort((a, b) => a.SeedIndex.CompareTo(b.SeedIndex));
        }

        private static int IndexOf(IReadOnlyList<int> seeds, int seed)
        {
            for (int i = 0; i < seeds.Count; i++) if (seeds[i] == seed) return i;
            return 0;
        }

        /// <summary>Seeds per cell in the spec.</summary>
        public int Count { get; }

        public string SeedsText => Count == 1 ? "1 seed" : $"{Count} seeds";

        public string OverSeeds => Count == 1 ? "the one seed (1 seed, no median)" : $"median over {Count} seeds";

        public IReadOnlyList<(int SeedIndex, TrialResult? Result)> this[string bn, int batch, double lr] =>
            cells.TryGetValue((bn, batch, lr), out var list) ? list : [];

        /// <summary>
        /// x offset of seed <paramref name="seedIndex"/> (log-2 units), spreading a cell's seeds symmetrically about
        /// its x when they would overlap: at most a quarter of the way to the next grid point.
        /// </summary>
        public double Jitter(int seedIndex) => Count <= 1 ? 0 : (seedIndex - (Count - 1) / 2.0) * Math.Min(0.07, 0.28 / (Count - 1));
    }

    /// <summary>A completed seed's final test accuracy (a fraction), or null.</summary>
    private static double? Accuracy(TrialResult? result) =>
        result is { Status: TrialStatus.Completed, FinalTestAccuracy: double a } && double.IsFinite(a) ? a : null;

    /// <summary>True when two of the values lie within <paramref name="distance"/> of each other.</summary>
    private static bool Overlap(IEnumerable<double> values, double distance)
    {
        var sorted = values.Order().ToList();
        for (int i = 1; i < sorted.Count; i++) if (sorted[i] - sorted[i - 1] < distance) return true;
        return false;
    }

    private static LegendItem LineItem(string text, Color color) => new()
    {
        LabelText = text, LineColor = color, LineWidth = 2, MarkerShape = MarkerShape.FilledCircle, MarkerFillColor = color,
        MarkerLineColor = color, MarkerSize = 7,
    };

    private static LegendItem MarkerItem(string text, MarkerShape shape, Color color, float size = 7) => new()
    {
        LabelText = text, LineWidth = 0, MarkerShape = shape, MarkerFillColor = color, MarkerLineColor = color, MarkerSize = size,
    };

    /// <summary>Where the rows of the diverged strip sit: row <paramref name="row"/> of the strip below 0%.</summary>
    private static double StripY(int row) => -StripRow * (row + 1);

    /// <summary>
    /// The y axis of an accuracy figure: 0..100% ticks, and when some seed diverged a strip below 0% with one labelled
    /// row per line (the crosses' rows), set off by a grey rule.
    /// </summary>
    private static void AccuracyAxis(Plot plot, IReadOnlyList<string>? stripRows)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int y = 0; y <= 100; y += 20) ticks.AddMajor(y, y.ToString(CultureInfo.InvariantCulture));
        double bottom = -3;
        if (stripRows is not null)
        {
            for (int row = 0; row < stripRows.Count; row++) ticks.AddMajor(StripY(row), "x " + stripRows[row]);
            bottom = StripY(stripRows.Count - 1) - StripRow / 2;
            var rule = plot.Add.HorizontalLine(-StripRow / 2, 1, Colors.Gray);
            rule.LinePattern = LinePattern.Solid;
        }
        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.SetLimitsY(bottom, 102);
        plot.YLabel("test accuracy (%)");
    }

    private static Plot AccuracyLines(ResultGrid grid, SeedCells seeds, bool byBatch, string eta, string etaName)
    {
        var plot = new Plot();
        int lines = byBatch ? grid.BaseLearningRates.Count : grid.BatchSizes.Count;
        int points = byBatch ? grid.BatchSizes.Count : grid.BaseLearningRates.Count;
        var legend = new List<LegendItem>();
        var names = new List<string>();
        bool anyDiverged = false, anySeed = false;
        for (int line = 0; line < lines; line++)
        {
            var color = Palette.GetColor(line);
            string name = byBatch ? $"{eta} = {Pow2(grid.BaseLearningRates[line])}" : $"m = {grid.BatchSizes[line]}";
            names.Add(byBatch ? Pow2(grid.BaseLearningRates[line]) : $"m={grid.BatchSizes[line]}");
            List<double> medianX = [], medianY = [], seedX = [], seedY = [], divergedX = [], divergedY = [];
            for (int p = 0; p < points; p++)
            {
                var cell = byBatch ? grid[p, line] : grid[line, p];
                double x = Math.Log2(byBatch ? cell.BatchSize : cell.BaseLearningRate);
                var trials = seeds[grid.BnMode, cell.BatchSize, cell.BaseLearningRate];
                var completed = trials.Where(t => Accuracy(t.Result) is not null).Select(t => (t.SeedIndex, Y: Accuracy(t.Result)!.Value * 100)).ToList();
                bool spread = Overlap(completed.Select(c => c.Y), OverlapPoints);
                foreach (var (seed, y) in completed) { seedX.Add(x + (spread ? seeds.Jitter(seed) : 0)); seedY.Add(y); }
                // Crosses share their row, so they are always spread: k of n diverged shows as k crosses.
                foreach (var (seed, _) in trials.Where(t => t.Result?.Status == TrialStatus.Diverged))
                {
                    divergedX.Add(x + seeds.Jitter(seed));
                    divergedY.Add(StripY(line));
                }
                if (cell.MedianAccuracy is double accuracy) { medianX.Add(x); medianY.Add(accuracy * 100); }
            }
            if (seedX.Count > 0)
            {
                plot.Add.Markers(seedX.ToArray(), seedY.ToArray(), MarkerShape.FilledCircle, 6, color.WithAlpha(SeedAlpha));
                anySeed = true;
            }
            if (medianX.Count > 0)
            {
                var median = plot.Add.Scatter(medianX.ToArray(), medianY.ToArray(), color);
                median.MarkerSize = 7;
                median.LineWidth = 2;
            }
            if (divergedX.Count > 0)
            {
                var crosses = plot.Add.Markers(divergedX.ToArray(), divergedY.ToArray(), MarkerShape.Eks, 10, color);
                crosses.MarkerStyle.LineWidth = 2;
                anyDiverged = true;
            }
            legend.Add(LineItem(name, color));
        }
        legend.Add(LineItem(seeds.Count == 1 ? "line: the one seed" : $"line: median of {seeds.Count} seeds", Colors.Gray));
        if (anySeed) legend.Add(MarkerItem("one seed", MarkerShape.FilledCircle, Colors.Gray.WithAlpha(SeedAlpha), 6));
        if (anyDiverged) legend.Add(MarkerItem("diverged seed (row = its line)", MarkerShape.Eks, Colors.Gray, 10));
        if (byBatch) Log2Ticks(plot.Axes.Bottom, grid.BatchSizes.Select(b => (double)b), b => b.ToString(CultureInfo.InvariantCulture));
        else Log2Ticks(plot.Axes.Bottom, grid.BaseLearningRates, Pow2);
        double[] xs = byBatch ? [.. grid.BatchSizes.Select(b => Math.Log2(b))] : [.. grid.BaseLearningRates.Select(Math.Log2)];
        if (xs.Length > 0) plot.Axes.SetLimitsX(xs.Min() - 0.4, xs.Max() + 0.4);
        plot.XLabel(byBatch ? "batch size m (log2)" : $"{etaName} (log2)");
        AccuracyAxis(plot, anyDiverged ? names : null);
        plot.Title($"BN {grid.BnMode}");
        plot.Legend.ManualItems.AddRange(legend);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>
    /// Rows = batch sizes (top: smallest), columns = base LRs. Colour: the median test accuracy of the seeds that did not
    /// diverge, on a fixed 0-100% scale; hatched where every finished seed diverged; a frame where a seed converged
    /// without reaching the stability threshold. Each cell is labelled with its median and what went wrong.
    /// </summary>
    private static Plot StabilityHeatmap(ResultGrid grid, SeedCells seeds, FindingsSpec rules, string etaName)
    {
        int rows = grid.BatchSizes.Count, columns = grid.BaseLearningRates.Count;
        var values = new double[rows, columns];
        var labels = new string[rows, columns];
        var hatched = new List<(int Row, int Column)>();
        var framed = new List<(int Row, int Column)>();
        for (int b = 0; b < rows; b++)
        for (int l = 0; l < columns; l++)
        {
            var cell = grid[b, l];
            var trials = seeds[grid.BnMode, cell.BatchSize, cell.BaseLearningRate];
            values[b, l] = cell.MedianAccuracy is double a ? a * 100 : double.NaN;
            int n = trials.Count;
            int nearChance = trials.Count(t => t.Result?.Status == TrialStatus.Completed && !PaperFindings.IsStable(t.Result, rules));
            var parts = new List<string>();
            if (cell.MedianAccuracy is double median) parts.Add(AccuracyFormat.Percent(median));
            if (cell.Diverged > 0) parts.Add(cell.Diverged == n ? "diverged" : $"{cell.Diverged}/{n} diverged");
            if (nearChance > 0) parts.Add(nearChance == n ? "near chance" : $"{nearChance}/{n} near chance");
            if (parts.Count == 0) parts.Add(cell.Status);
            labels[b, l] = string.Join("\n", parts);
            if (cell.Diverged > 0 && cell.Completed == 0) hatched.Add((b, l));
            if (nearChance > 0) framed.Add((b, l));
        }
        var plot = new Plot();
        AddLabelledHeatmap(plot, values, (b, l) => labels[b, l],
            grid.BaseLearningRates.Select(Pow2).ToList(), grid.BatchSizes.Select(m => m.ToString(CultureInfo.InvariantCulture)).ToList(),
            0, 100, "median test accuracy (%)",
            decorate: () =>
            {
                foreach (var (row, column) in hatched) Hatch(plot, column, rows - 1 - row);
                foreach (var (row, column) in framed)
                {
                    double y = rows - 1 - row;
                    var frame = plot.Add.Rectangle(column - 0.44, column + 0.44, y - 0.44, y + 0.44);
                    frame.FillColor = Colors.Transparent;
                    frame.LineColor = NearChanceFrame;
                    frame.LineWidth = 3;
                }
            });
        var legend = new List<LegendItem>();
        if (hatched.Count > 0)
            legend.Add(new LegendItem { LabelText = "hatched: every seed diverged", LineColor = DivergedHatch, LineWidth = 2 });
        if (framed.Count > 0)
            legend.Add(MarkerItem($"frame: converged below {Number(rules.StableAccuracyOverChance)}x chance", MarkerShape.OpenSquare, NearChanceFrame, 12));
        if (legend.Count > 0)
        {
            plot.Legend.ManualItems.AddRange(legend);
            plot.ShowLegend(Edge.Bottom);
        }
        plot.XLabel(etaName);
        plot.YLabel("batch size m");
        plot.Title($"Stability, BN {grid.BnMode}");
        return plot;
    }

    /// <summary>Diagonal hatching over the cell centred on (<paramref name="x"/>, <paramref name="y"/>), drawn as lines.</summary>
    private static void Hatch(Plot plot, double x, double y)
    {
        const double half = 0.5;
        for (double t = -0.75; t <= 0.751; t += 0.25)
        {
            // The line v - u = t inside the square |u|, |v| <= half.
            double u0 = Math.Max(-half, -half - t), u1 = Math.Min(half, half - t);
            if (u1 - u0 < 1e-9) continue;
            var segment = plot.Add.Line(x + u0, y + u0 + t, x + u1, y + u1 + t);
            segment.LineColor = DivergedHatch;
            segment.LineWidth = 1.5f;
            segment.MarkerSize = 0;
        }
    }

    /// <summary>BN batch of a mode at SGD batch m, as `verify` counts it: ghost:b uses b (b &gt;= m is the whole batch), "batch" uses m.</summary>
    private static int BnBatch(string mode, int m) => mode == "batch" ? m : Math.Min(m, BnMode.Parse(mode).GhostSize);

    private static List<ResultGrid> GhostCandidates(IReadOnlyList<ResultGrid> grids) =>
        grids.Where(g => g.BnMode.StartsWith("ghost:", StringComparison.Ordinal)).OrderBy(g => BnMode.Parse(g.BnMode).GhostSize)
            .Concat(grids.Where(g => g.BnMode == "batch")).ToList();

    /// <summary>
    /// One SGD batch: test accuracy vs BN batch (log2). Per seed the best final accuracy over the base LRs (the
    /// candidates `verify` weighs: the ghost sizes and BN over the whole batch, grouped by the BN batch each means);
    /// the line is the median of those over seeds.
    /// </summary>
    private static Plot GhostLine(IReadOnlyList<ResultGrid> grids, SeedCells seeds, int batch)
    {
        var plot = new Plot();
        var color = Palette.GetColor(0);
        var groups = GhostCandidates(grids).GroupBy(g => BnBatch(g.BnMode, batch)).OrderBy(g => g.Key).ToList();
        List<double> medianX = [], medianY = [], seedX = [], seedY = [], divergedX = [], divergedY = [];
        foreach (var group in groups)
        {
            double x = Math.Log2(group.Key);
            var bySeed = group.SelectMany(g => g.BaseLearningRates.SelectMany(lr => seeds[g.BnMode, batch, lr]))
                .GroupBy(t => t.SeedIndex).OrderBy(s => s.Key).ToList();
            var best = new List<(int Seed, double Y)>();
            foreach (var seed in bySeed)
            {
                var accuracies = seed.Select(t => Accuracy(t.Result)).OfType<double>().ToList();
                if (accuracies.Count > 0) best.Add((seed.Key, accuracies.Max() * 100));
                else if (seed.Any(t => t.Result?.Status == TrialStatus.Diverged)) { divergedX.Add(x + seeds.Jitter(seed.Key)); divergedY.Add(StripY(0)); }
            }
            bool spread = Overlap(best.Select(b => b.Y), OverlapPoints);
            foreach (var (seed, y) in best) { seedX.Add(x + (spread ? seeds.Jitter(seed) : 0)); seedY.Add(y); }
            if (best.Count > 0) { medianX.Add(x); medianY.Add(Statistics.Median(best.Select(b => b.Y).ToList())); }
        }
        var legend = new List<LegendItem>();
        if (seedX.Count > 0)
        {
            plot.Add.Markers(seedX.ToArray(), seedY.ToArray(), MarkerShape.FilledCircle, 6, color.WithAlpha(SeedAlpha));
            legend.Add(MarkerItem("one seed (best over LRs)", MarkerShape.FilledCircle, color.WithAlpha(SeedAlpha), 6));
        }
        if (medianX.Count > 0)
        {
            var median = plot.Add.Scatter(medianX.ToArray(), medianY.ToArray(), color);
            median.MarkerSize = 7;
            median.LineWidth = 2;
            legend.Insert(0, LineItem($"median of {seeds.SeedsText}", color));
        }
        if (divergedX.Count > 0)
        {
            var crosses = plot.Add.Markers(divergedX.ToArray(), divergedY.ToArray(), MarkerShape.Eks, 10, color);
            crosses.MarkerStyle.LineWidth = 2;
            legend.Add(MarkerItem("diverged at every LR", MarkerShape.Eks, color, 10));
        }
        var bnBatches = groups.Select(g => (double)g.Key).ToList();
        Log2Ticks(plot.Axes.Bottom, bnBatches, b => b == batch ? $"{b} (= m)" : b.ToString(CultureInfo.InvariantCulture));
        if (bnBatches.Count > 0) plot.Axes.SetLimitsX(Math.Log2(bnBatches.Min()) - 0.4, Math.Log2(bnBatches.Max()) + 0.4);
        plot.XLabel("BN batch (ghost size; log2)");
        AccuracyAxis(plot, divergedX.Count > 0 ? ["all LRs"] : null);
        plot.Title($"Test accuracy vs BN batch, SGD batch m = {batch}");
        plot.Legend.ManualItems.AddRange(legend);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>
    /// Two or more SGD batches. Rows: ghost sizes, smallest first, then BN over the whole SGD batch when the study has it
    /// (the same candidates `verify` weighs for the best BN batch); columns: SGD batch sizes. The colour scale is fixed
    /// from chance to 100%, so a spread of a point or two does not fill the whole colour map.
    /// </summary>
    private static Plot GhostHeatmap(IReadOnlyList<ResultGrid> grids)
    {
        var rows = GhostCandidates(grids);
        var batches = rows[0].BatchSizes;
        var values = new double[rows.Count, batches.Count];
        var best = new double?[rows.Count, batches.Count];
        for (int r = 0; r < rows.Count; r++)
        for (int b = 0; b < batches.Count; b++)
        {
            best[r, b] = rows[r].BestLearningRatePerBatch().Single(x => x.BatchSize == batches[b]).Accuracy;
            values[r, b] = best[r, b] is double a ? a * 100 : double.NaN;
        }
        var plot = new Plot();
        AddLabelledHeatmap(plot, values, (r, b) => best[r, b] is double a ? AccuracyFormat.Percent(a) : "-",
            batches.Select(m => m.ToString(CultureInfo.InvariantCulture)).ToList(),
            rows.Select(g => g.BnMode == "batch" ? "m (batch)" : BnMode.Parse(g.BnMode).GhostSize.ToString(CultureInfo.InvariantCulture)).ToList(),
            ChanceLevel.Accuracy * 100, 100, "best median test accuracy (%)");
        plot.XLabel("SGD batch size m");
        plot.YLabel("BN batch (ghost size)");
        plot.Title("Best median test accuracy (%) over base LRs");
        return plot;
    }

    private static void AddLabelledHeatmap(Plot plot, double[,] values, Func<int, int, string> label, IReadOnlyList<string> columnLabels,
        IReadOnlyList<string> rowLabels, double min, double max, string scaleLabel, Action? decorate = null)
    {
        int rows = values.GetLength(0), columns = values.GetLength(1);
        // A grid with no value yet (a study stopped before this BN mode started) has no colour to show: then only the
        // cells' labels, on the same axes.
        bool anyValue = values.Cast<double>().Any(v => !double.IsNaN(v));
        ScottPlot.Plottables.Heatmap? heatmap = null;
        if (anyValue)
        {
            heatmap = plot.Add.Heatmap(values);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            heatmap.NaNCellColor = Colors.LightGray;
            heatmap.ManualRange = new ScottPlot.Range(min, max);
        }
        decorate?.Invoke();
        plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, rows - 0.5);
        // ScottPlot draws row 0 of the array at the top, cell (r, c) centred on x = c, y = rows - 1 - r.
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < columns; c++)
        {
            var text = plot.Add.Text(label(r, c), c, rows - 1 - r);
            text.LabelFontColor = Colors.White;
            text.LabelBackgroundColor = Colors.Black.WithAlpha(0.45);
            text.LabelFontSize = 12;
            text.LabelAlignment = Alignment.MiddleCenter;
        }
        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        for (int c = 0; c < columns; c++) xTicks.AddMajor(c, columnLabels[c]);
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        for (int r = 0; r < rows; r++) yTicks.AddMajor(rows - 1 - r, rowLabels[r]);
        plot.Axes.Bottom.TickGenerator = xTicks;
        plot.Axes.Left.TickGenerator = yTicks;
        if (heatmap is not null)
        {
            var bar = plot.Add.ColorBar(heatmap);
            bar.Label = scaleLabel;
        }
    }

    /// <summary>
    /// A measure of the solution (eps-sharpness, the top Hessian eigenvalue) vs batch size, at each batch size's best
    /// base LR by median accuracy: per-seed points and the median, on a log10 axis with decade ticks. Returns the plot
    /// and how many values could not be drawn (&lt;= 0).
    /// </summary>
    private static (Plot Plot, int Dropped) LogVsBatch(IReadOnlyList<ResultGrid> grids, SeedCells seeds, Func<TrialResult, double?> measure,
        string yLabel, string title, string eta)
    {
        var plot = new Plot();
        var legend = new List<LegendItem>();
        var drawn = new List<double>();
        int dropped = 0;
        for (int g = 0; g < grids.Count; g++)
        {
            var grid = grids[g];
            var color = Palette.GetColor(g);
            List<double> medianX = [], medianY = [], seedX = [], seedY = [];
            foreach (var (batch, lr, _) in grid.BestLearningRatePerBatch())
            {
                if (lr is null) continue;
                double x = Math.Log2(batch);
                var values = seeds[grid.BnMode, batch, lr.Value]
                    .Where(t => t.Result is { Status: TrialStatus.Completed })
                    .Select(t => (t.SeedIndex, Value: measure(t.Result!)))
                    .Where(v => v.Value is double d && double.IsFinite(d)).Select(v => (v.SeedIndex, Value: v.Value!.Value)).ToList();
                if (values.Count == 0) continue;
                var positive = values.Where(v => v.Value > 0).ToList();
                dropped += values.Count - positive.Count;
                bool spread = Overlap(positive.Select(v => Math.Log10(v.Value)), 0.04);
                foreach (var (seed, value) in positive) { seedX.Add(x + (spread ? seeds.Jitter(seed) : 0)); seedY.Add(Math.Log10(value)); drawn.Add(value); }
                double median = Statistics.Median(values.Select(v => v.Value).ToList());
                if (median > 0) { medianX.Add(x); medianY.Add(Math.Log10(median)); drawn.Add(median); }
            }
            if (seedX.Count > 0) plot.Add.Markers(seedX.ToArray(), seedY.ToArray(), MarkerShape.FilledCircle, 6, color.WithAlpha(SeedAlpha));
            if (medianX.Count > 0)
            {
                var line = plot.Add.Scatter(medianX.ToArray(), medianY.ToArray(), color);
                line.MarkerSize = 7;
                line.LineWidth = 2;
            }
            if (seedX.Count > 0 || medianX.Count > 0) legend.Add(LineItem($"BN {grid.BnMode}", color));
        }
        if (legend.Count > 0)
        {
            legend.Add(LineItem(seeds.Count == 1 ? "line: the one seed" : $"line: median of {seeds.Count} seeds", Colors.Gray));
            legend.Add(MarkerItem("one seed", MarkerShape.FilledCircle, Colors.Gray.WithAlpha(SeedAlpha), 6));
        }
        Log10Axis(plot, plot.Axes.Left, drawn);
        var batches = grids.Count > 0 ? grids[0].BatchSizes : [];
        Log2Ticks(plot.Axes.Bottom, batches.Select(b => (double)b), b => b.ToString(CultureInfo.InvariantCulture));
        if (batches.Count > 0) plot.Axes.SetLimitsX(Math.Log2(batches.Min()) - 0.4, Math.Log2(batches.Max()) + 0.4);
        plot.XLabel($"batch size m (log2), at its best {eta}");
        plot.YLabel(yLabel);
        plot.Title(title);
        plot.Legend.ManualItems.AddRange(legend);
        plot.ShowLegend(Edge.Right);
        return (plot, dropped);
    }

    /// <summary>
    /// A log10 axis over <paramref name="values"/> (plotted as their log10): limits on whole decades around them, a labelled
    /// tick per decade (1, 10, 100, ...), minor ticks at 2..9 of each, and 2 and 5 labelled too when one decade is all.
    /// </summary>
    private static void Log10Axis(Plot plot, IYAxis axis, IReadOnlyCollection<double> values)
    {
        int low = values.Count > 0 ? (int)Math.Floor(Math.Log10(values.Min())) : 0;
        int high = values.Count > 0 ? (int)Math.Ceiling(Math.Log10(values.Max())) : 1;
        if (high <= low) high = low + 1;
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int k = low; k <= high; k++)
        {
            ticks.AddMajor(k, PowerOfTen(1, k));
            if (k == high) break;
            for (int j = 2; j <= 9; j++)
            {
                double at = k + Math.Log10(j);
                if (high - low == 1 && j is 2 or 5) ticks.AddMajor(at, PowerOfTen(j, k));
                else ticks.AddMinor(at);
            }
        }
        axis.TickGenerator = ticks;
        plot.Axes.SetLimitsY(low, high, axis);
    }

    /// <summary>j x 10^k as a plain number where short (0.01, 20, 5000), else "j e k".</summary>
    private static string PowerOfTen(int j, int k) => k is >= -3 and <= 5
        ? (j * Math.Pow(10, k)).ToString("0.###", CultureInfo.InvariantCulture)
        : $"{j}e{k}";

    private static Plot Interpolation(InterpolationResult line)
    {
        var plot = new Plot();
        double[] alphas = [.. line.Points.Select(p => p.Alpha)];
        // Far from both solutions the loss grows by orders of magnitude and would flatten the part between them (the
        // barrier, each basin's walls) into the axis: then the loss axis is logarithmic.
        var finite = line.Points.SelectMany(p => new[] { p.TrainLoss, p.TestLoss }).Where(v => double.IsFinite(v) && v > 0).ToList();
        bool logLoss = finite.Count > 0 && finite.Max() / finite.Min() > 100;
        double Scale(double loss) => logLoss ? Math.Log10(loss) : loss;
        // Train and test told apart by marker shape, not dashes: Skia's SVG canvas cannot draw dash effects (it warns per line).
        void Loss(Func<InterpolationPoint, double> select, string name, MarkerShape marker)
        {
            var s = plot.Add.Scatter(alphas, [.. line.Points.Select(p => Scale(select(p)))]);
            s.LegendText = name;
            s.MarkerShape = marker;
            s.MarkerSize = 7;
            s.LineWidth = 2;
        }
        Loss(p => p.TrainLoss, "train loss", MarkerShape.FilledCircle);
        Loss(p => p.TestLoss, "test loss", MarkerShape.OpenCircle);
        var accuracyAxis = plot.Axes.Right;
        foreach (var (select, name, marker) in new (Func<InterpolationPoint, double>, string, MarkerShape)[]
                 {
                     (p => InterpolationPoint.AccuracyWhereDefined(p.TrainLoss, p.TrainAccuracy) * 100, "train accuracy (%)", MarkerShape.FilledSquare),
                     (p => InterpolationPoint.AccuracyWhereDefined(p.TestLoss, p.TestAccuracy) * 100, "test accuracy (%)", MarkerShape.OpenSquare),
                 })
        {
            var s = plot.Add.Scatter(alphas, [.. line.Points.Select(select)]);
            s.LegendText = name;
            s.MarkerShape = marker;
            s.MarkerSize = 7;
            s.LineWidth = 2;
            s.Axes.YAxis = accuracyAxis;
        }
        plot.Axes.SetLimitsY(0, 100, accuracyAxis);
        accuracyAxis.Label.Text = "accuracy (%)";
        if (logLoss)
        {
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            for (int k = (int)Math.Floor(Math.Log10(finite.Min())); k <= (int)Math.Ceiling(Math.Log10(finite.Max())); k++)
                ticks.AddMajor(k, Math.Pow(10, k).ToString("G", CultureInfo.InvariantCulture));
            plot.Axes.Left.TickGenerator = ticks;
        }
        plot.YLabel(logLoss ? "cross-entropy loss (log scale)" : "cross-entropy loss");
        plot.XLabel($"alpha (0: {line.SmallTrialId}, 1: {line.LargeTrialId})");
        plot.Title($"Interpolation {line.Name}");
        plot.ShowLegend(Edge.Bottom);
        return plot;
    }
}
