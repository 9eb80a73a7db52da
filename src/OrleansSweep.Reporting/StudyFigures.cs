using System.Globalization;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using ScottPlot;
using OrleansSweep.Study;

namespace OrleansSweep.Reporting;

/// <summary>One figure of a report: a file stem, a caption, and the plot.</summary>
public sealed record Figure(string Name, string Caption, Plot Plot);

/// <summary>
/// The papers' figures from a study's grids, with ScottPlot: test accuracy vs batch size per base LR and vs base LR
/// per batch size (Masters &amp; Luschi Fig. 1), the stability heatmap, BN batch x SGD batch (Sec. 3.6), sharpness vs
/// batch size and the SB-LB interpolation (Keskar et al.). Batch sizes and learning rates sit on log-2 axes; diverged
/// cells are drawn as red crosses at zero accuracy, never dropped.
/// </summary>
public static class StudyFigures
{
    public const int Width = 720;
    public const int Height = 480;

    public static IReadOnlyList<Figure> Build(SweepSpec spec, IReadOnlyList<ResultGrid> grids, IReadOnlyList<InterpolationResult> interpolations)
    {
        var figures = new List<Figure>();
        var (eta, etaName) = spec.Training.LearningRateAxis;
        foreach (var grid in grids)
        {
            string bn = grid.BnMode.Replace(':', '-');
            figures.Add(new Figure($"accuracy-vs-batch-{bn}", $"Test accuracy (median over seeds) vs batch size m, one line per {eta}; BN {grid.BnMode}.",
                AccuracyLines(grid, byBatch: true, eta, etaName)));
            figures.Add(new Figure($"accuracy-vs-lr-{bn}", $"Test accuracy vs {eta}, one line per batch size (the stability view); BN {grid.BnMode}.",
                AccuracyLines(grid, byBatch: false, eta, etaName)));
            figures.Add(new Figure($"stability-{bn}", $"Converged fraction of seeds per cell (1 = every seed converged, 0 = all diverged); BN {grid.BnMode}.",
                StabilityHeatmap(grid, etaName)));
        }
        if (grids.Count(g => g.BnMode.StartsWith("ghost:", StringComparison.Ordinal)) >= 1)
            figures.Add(new Figure("bn-batch-vs-sgd-batch", "Best test accuracy over base LRs for each BN batch (ghost size, or the whole SGD batch) x SGD batch size.", GhostHeatmap(grids)));
        foreach (string key in StudyFiles.SharpnessKeys(spec))
            figures.Add(new Figure($"sharpness-{key.Replace('@', '-')}", $"eps-sharpness {key} (median over seeds) at each batch size's best base LR.",
                SharpnessVsBatch(grids, key, eta)));
        foreach (var line in interpolations)
            figures.Add(new Figure($"interpolation-{line.Name}", $"Loss and accuracy along alpha * x({line.LargeTrialId}) + (1 - alpha) * x({line.SmallTrialId}).",
                Interpolation(line)));
        return figures;
    }

    private static string Pow2(double value) => LearningRateFormat.Format(value);

    private static void Log2Ticks(IAxis axis, IEnumerable<double> values, Func<double, string> label)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (double v in values) ticks.AddMajor(Math.Log2(v), label(v));
        axis.TickGenerator = ticks;
    }

    private static Plot AccuracyLines(ResultGrid grid, bool byBatch, string eta, string etaName)
    {
        var plot = new Plot();
        var lines = byBatch ? grid.BaseLearningRates.Count : grid.BatchSizes.Count;
        var points = byBatch ? grid.BatchSizes.Count : grid.BaseLearningRates.Count;
        var divergedX = new List<double>();
        for (int line = 0; line < lines; line++)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            for (int p = 0; p < points; p++)
            {
                var cell = byBatch ? grid[p, line] : grid[line, p];
                double x = Math.Log2(byBatch ? cell.BatchSize : cell.BaseLearningRate);
                if (cell.MedianAccuracy is double accuracy) { xs.Add(x); ys.Add(accuracy * 100); }
                else if (cell.Diverged > 0) divergedX.Add(x);
            }
            if (xs.Count == 0) continue;
            var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
            scatter.LegendText = byBatch ? $"{eta} = {Pow2(grid.BaseLearningRates[line])}" : $"m = {grid.BatchSizes[line]}";
            scatter.MarkerSize = 7;
            scatter.LineWidth = 2;
        }
        if (divergedX.Count > 0)
        {
            var crosses = plot.Add.Markers(divergedX.ToArray(), new double[divergedX.Count], MarkerShape.Cross, 12, Colors.Red);
            crosses.LegendText = "diverged (all seeds)";
        }
        if (byBatch) Log2Ticks(plot.Axes.Bottom, grid.BatchSizes.Select(b => (double)b), b => b.ToString(CultureInfo.InvariantCulture));
        else Log2Ticks(plot.Axes.Bottom, grid.BaseLearningRates, Pow2);
        plot.XLabel(byBatch ? "batch size m (log2)" : $"{etaName} (log2)");
        plot.YLabel("test accuracy (%)");
        plot.Title($"BN {grid.BnMode}");
        plot.Axes.SetLimitsY(-3, 100);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>Rows = batch sizes (top: smallest), columns = base LRs; each cell labelled with its status or fraction.</summary>
    private static Plot StabilityHeatmap(ResultGrid grid, string etaName)
    {
        int rows = grid.BatchSizes.Count, columns = grid.BaseLearningRates.Count;
        var values = new double[rows, columns];
        var plot = new Plot();
        for (int b = 0; b < rows; b++)
        for (int l = 0; l < columns; l++)
            values[b, l] = grid[b, l].ConvergedFraction ?? double.NaN;
        AddLabelledHeatmap(plot, values, (b, l) => grid[b, l].ConvergedFraction is double f ? f.ToString("0.##", CultureInfo.InvariantCulture) : grid[b, l].Status,
            grid.BaseLearningRates.Select(Pow2).ToList(), grid.BatchSizes.Select(m => m.ToString(CultureInfo.InvariantCulture)).ToList(), 0, 1);
        plot.XLabel(etaName);
        plot.YLabel("batch size m");
        plot.Title($"Stability, BN {grid.BnMode}");
        return plot;
    }

    /// <summary>
    /// Rows: ghost sizes, smallest first, then BN over the whole SGD batch when the study has it (the same candidates
    /// `verify` weighs for the best BN batch); columns: SGD batch sizes.
    /// </summary>
    private static Plot GhostHeatmap(IReadOnlyList<ResultGrid> grids)
    {
        var rows = grids.Where(g => g.BnMode.StartsWith("ghost:", StringComparison.Ordinal))
            .OrderBy(g => BnMode.Parse(g.BnMode).GhostSize)
            .Concat(grids.Where(g => g.BnMode == "batch")).ToList();
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
            rows.Select(g => g.BnMode == "batch" ? "m (batch)" : BnMode.Parse(g.BnMode).GhostSize.ToString(CultureInfo.InvariantCulture)).ToList(), null, null);
        plot.XLabel("SGD batch size m");
        plot.YLabel("BN batch (ghost size)");
        plot.Title("Best test accuracy (%) over base LRs");
        return plot;
    }

    private static void AddLabelledHeatmap(Plot plot, double[,] values, Func<int, int, string> label, IReadOnlyList<string> columnLabels,
        IReadOnlyList<string> rowLabels, double? min, double? max)
    {
        int rows = values.GetLength(0), columns = values.GetLength(1);
        // A grid with no value yet (a study stopped before this BN mode started) has no colour range, which ScottPlot's
        // heatmap cannot draw: then only the cells' labels, on the same axes.
        bool anyValue = values.Cast<double>().Any(v => !double.IsNaN(v));
        ScottPlot.Plottables.Heatmap? heatmap = null;
        if (anyValue)
        {
            heatmap = plot.Add.Heatmap(values);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            heatmap.NaNCellColor = Colors.LightGray;
            if (min is double lo && max is double hi) heatmap.ManualRange = new ScottPlot.Range(lo, hi);
        }
        else plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, rows - 0.5);
        // ScottPlot draws row 0 of the array at the top, cell (r, c) centred on x = c, y = rows - 1 - r.
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < columns; c++)
        {
            var text = plot.Add.Text(label(r, c), c, rows - 1 - r);
            text.LabelFontColor = Colors.White;
            text.LabelBackgroundColor = Colors.Black.WithAlpha(0.45);
            text.LabelFontSize = 13;
            text.LabelAlignment = Alignment.MiddleCenter;
        }
        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        for (int c = 0; c < columns; c++) xTicks.AddMajor(c, columnLabels[c]);
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        for (int r = 0; r < rows; r++) yTicks.AddMajor(rows - 1 - r, rowLabels[r]);
        plot.Axes.Bottom.TickGenerator = xTicks;
        plot.Axes.Left.TickGenerator = yTicks;
        if (heatmap is not null) plot.Add.ColorBar(heatmap);
    }

    private static Plot SharpnessVsBatch(IReadOnlyList<ResultGrid> grids, string key, string eta)
    {
        var plot = new Plot();
        foreach (var grid in grids)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            foreach (var (batch, lr, _) in grid.BestLearningRatePerBatch())
            {
                if (lr is null) continue;
                var cell = grid[grid.BatchSizes.ToList().IndexOf(batch), grid.BaseLearningRates.ToList().IndexOf(lr.Value)];
                if (cell.MedianSharpness?.GetValueOrDefault(key) is double phi) { xs.Add(Math.Log2(batch)); ys.Add(phi); }
            }
            if (xs.Count == 0) continue;
            var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
            scatter.LegendText = $"BN {grid.BnMode}";
            scatter.MarkerSize = 8;
            scatter.LineWidth = 2;
        }
        Log2Ticks(plot.Axes.Bottom, grids[0].BatchSizes.Select(b => (double)b), b => b.ToString(CultureInfo.InvariantCulture));
        plot.XLabel($"batch size m (log2), at its best {eta}");
        plot.YLabel($"sharpness {key}");
        plot.Title("eps-sharpness vs batch size");
        plot.Axes.Margins(0.08, 0.12);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

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
