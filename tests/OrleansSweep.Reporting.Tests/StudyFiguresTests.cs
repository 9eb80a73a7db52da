using System.Text.RegularExpressions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using ScottPlot;
using ScottPlot.Plottables;
using static OrleansSweep.TestSupport.SampleResults;

namespace OrleansSweep.Reporting.Tests;

/// <summary>
/// What each figure draws, read from its ScottPlot plottables (and SVG where the text matters): the per-seed points,
/// where diverged seeds go, the log axis of sharpness, the ghost-BN line, the stability cells, the captions. Set
/// ORLEANS_SWEEP_FIGURES to a folder to keep the figures as PNG for a person to look at.
/// </summary>
public class StudyFiguresTests
{
    private static readonly double[] Seeds3 = [0.80, 0.83, 0.86];

    /// <summary>Markers plottables of a shape: FilledCircle for seeds, Eks for diverged seeds.</summary>
    private static List<Markers> MarkersOf(Figure figure, MarkerShape shape) =>
        [.. figure.Plot.GetPlottables().OfType<Markers>().Where(m => m.MarkerStyle.Shape == shape)];

    private static List<Coordinates> Points(IEnumerable<Markers> markers) => [.. markers.SelectMany(m => m.Data.GetScatterPoints())];

    private static Figure Named(IReadOnlyList<Figure> figures, string name)
    {
        var figure = figures.SingleOrDefault(f => f.Name == name);
        Assert.True(figure is not null, $"no figure {name}; have {string.Join(", ", figures.Select(f => f.Name))}");
        Keep(figure);
        return figure;
    }

    private static void Keep(Figure figure)
    {
        if (Environment.GetEnvironmentVariable("ORLEANS_SWEEP_FIGURES") is not { Length: > 0 } folder) return;
        Directory.CreateDirectory(folder);
        figure.Plot.SavePng(Path.Combine(folder, figure.Name + ".png"), StudyFigures.Width, StudyFigures.Height);
        File.WriteAllText(Path.Combine(folder, figure.Name + ".svg"), Svg(figure));
    }

    private static string Svg(Figure figure) => figure.ToSvg();

    private static TrialResult Diverged(string id) => new() { TrialId = id, Status = TrialStatus.Diverged, DivergedAtEpoch = 1 };

    /// <summary>The 2 x 2 x 3-seed sample: each seed its own accuracy; eta~ = 2^-6 at m = 64 diverges in every seed.</summary>
    private static (SweepSpec Spec, Dictionary<string, TrialResult> Results) ThreeSeedStudy()
    {
        var trials = GridExpander.Expand(Spec);
        var results = trials.ToDictionary(t => t.TrialId, t => t.BatchSize == 64 && t.BaseLearningRate > 0.01
            ? Diverged(t.TrialId)
            : Completed(t.TrialId, Seeds3[t.Seed] - (t.BatchSize == 64 ? 0.1 : 0)));
        return (Spec, results);
    }

    [Fact]
    public void A_three_seed_study_draws_three_seed_markers_per_finished_cell_and_the_median_as_the_line()
    {
        var (spec, results) = ThreeSeedStudy();
        var figures = StudyFigures.Build(spec, results, []);
        foreach (string name in (string[])["accuracy-vs-batch-none", "accuracy-vs-lr-none"])
        {
            var figure = Named(figures, name);
            // Three converged cells, three seeds each: nine pale seed markers, at the seeds' own accuracies.
            var seeds = Points(MarkersOf(figure, MarkerShape.FilledCircle));
            Assert.Equal(9, seeds.Count);
            Assert.Equal(3, seeds.Count(p => Math.Abs(p.Y - 80) < 1e-9 || Math.Abs(p.Y - 70) < 1e-9));
            Assert.All(MarkersOf(figure, MarkerShape.FilledCircle), m => Assert.True(m.MarkerStyle.FillColor.Alpha < 255, "seed markers are lighter than the line"));
            // The lines are the medians over seeds (83% at m = 16, 73% at m = 64), three points over the finished cells.
            var lines = figure.Plot.GetPlottables().OfType<Scatter>().ToList();
            var medians = lines.SelectMany(l => l.Data.GetScatterPoints()).Select(p => Math.Round(p.Y, 6)).Order().ToList();
            Assert.Equal([73, 83, 83], medians);
            // Seed markers sit in their line's colour.
            foreach (var line in lines)
                Assert.Contains(MarkersOf(figure, MarkerShape.FilledCircle), m => m.MarkerStyle.FillColor.WithAlpha(1.0) == line.Color.WithAlpha(1.0));
            // 3 diverged seeds drawn as 3 crosses, not one.
            Assert.Equal(3, Points(MarkersOf(figure, MarkerShape.Eks)).Distinct().Count());
        }
    }

    [Fact]
    public void Seeds_that_overlap_are_spread_on_x_and_seeds_that_do_not_stay_at_their_cell()
    {
        var (spec, results) = ThreeSeedStudy();
        foreach (var trial in GridExpander.Expand(spec).Where(t => t.BatchSize == 16 && t.BaseLearningRate < 0.01))
            results[trial.TrialId] = Completed(trial.TrialId, 0.5);
        var figure = Named(StudyFigures.Build(spec, results, []), "accuracy-vs-batch-none");
        var seeds = Points(MarkersOf(figure, MarkerShape.FilledCircle));
        var same = seeds.Where(p => Math.Abs(p.Y - 50) < 1e-9).ToList();
        Assert.Equal(3, same.Select(p => p.X).Distinct().Count());
        Assert.All(same, p => Assert.InRange(p.X, Math.Log2(16) - 0.25, Math.Log2(16) + 0.25));
        Assert.All(seeds.Where(p => Math.Abs(p.Y - 80) < 1e-9 || Math.Abs(p.Y - 86) < 1e-9), p => Assert.Equal(Math.Log2(16), p.X));
    }

    [Fact]
    public void Two_learning_rates_diverging_at_the_same_batch_are_drawn_apart_in_their_own_colours_and_rows()
    {
        var spec = Spec with { Grid = Spec.Grid with { BaseLearningRates = [Math.Pow(2, -8), Math.Pow(2, -6), Math.Pow(2, -4)] } };
        var trials = GridExpander.Expand(spec);
        var results = trials.ToDictionary(t => t.TrialId, t => t.BatchSize == 64 && t.BaseLearningRate > 0.01
            ? Diverged(t.TrialId) : Completed(t.TrialId, Seeds3[t.Seed]));
        var figures = StudyFigures.Build(spec, results, []);

        // vs batch: one line per eta~; each diverging eta~ has its own row below 0% and its own colour.
        var byBatch = Named(figures, "accuracy-vs-batch-none");
        var crosses = MarkersOf(byBatch, MarkerShape.Eks);
        Assert.Equal(2, crosses.Count);
        Assert.NotEqual(crosses[0].MarkerStyle.LineColor, crosses[1].MarkerStyle.LineColor);
        var rows = crosses.Select(c => c.Data.GetScatterPoints().Select(p => p.Y).Distinct().Single()).ToList();
        Assert.NotEqual(rows[0], rows[1]);
        Assert.All(rows, y => Assert.True(y < 0, "diverged seeds sit below 0%"));
        Assert.All(Points(crosses), p => Assert.InRange(p.X, Math.Log2(64) - 0.25, Math.Log2(64) + 0.25));
        Assert.Equal(6, Points(crosses).Distinct().Count());
        // The cross's colour is its line's.
        var lineColours = byBatch.Plot.GetPlottables().OfType<Scatter>().Select(s => s.Color).ToList();
        Assert.All(crosses, c => Assert.Contains(c.MarkerStyle.LineColor, lineColours));

        // vs eta~: the crosses sit at their own eta~, not stacked at one x.
        var byLr = Named(figures, "accuracy-vs-lr-none");
        var lrCrosses = Points(MarkersOf(byLr, MarkerShape.Eks));
        Assert.Contains(lrCrosses, p => Math.Abs(p.X - -6) < 0.25);
        Assert.Contains(lrCrosses, p => Math.Abs(p.X - -4) < 0.25);
        // And the legend says what the crosses are.
        Assert.Contains("diverged seed", Svg(byBatch));
    }

    [Fact]
    public void Sharpness_is_drawn_per_seed_on_a_log10_axis_with_decade_ticks()
    {
        var spec = Spec with { Analysis = new AnalysisSpec { Sharpness = new SharpnessSpec { Spaces = ["full"], Epsilons = [1e-3] } } };
        // Values as in a real study: the small batch's 148 would look like 0 next to the large batch's 1.5e4 on a linear axis.
        double[] small = [120, 148, 190], large = [9000, 15000, 21000];
        var results = GridExpander.Expand(spec).ToDictionary(t => t.TrialId, t => Completed(t.TrialId, Seeds3[t.Seed]) with
        {
            Analysis = new TrialAnalysis { Sharpness = [new("full", 1e-3, (t.BatchSize == 16 ? small : large)[t.Seed], 0.1, 0.2, 10, 11, 1)] },
        });
        var figures = StudyFigures.Build(spec, results, []);
        var figure = Named(figures, "sharpness-full-0.001");

        var seeds = Points(MarkersOf(figure, MarkerShape.FilledCircle));
        Assert.Equal(6, seeds.Count);
        Assert.Equal(small.Concat(large).Select(Math.Log10).Order(), seeds.Select(p => p.Y).Order(), new Close());
        var median = figure.Plot.GetPlottables().OfType<Scatter>().Single().Data.GetScatterPoints();
        Assert.Equal([Math.Log10(148), Math.Log10(15000)], median.Select(p => p.Y), new Close());

        // Whole decades, labelled as numbers: 100 .. 100000, and the axis covers both batches' seeds (ticks as drawn).
        string svg = Svg(figure);
        var labels = figure.Plot.Axes.Left.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Label).ToList();
        Assert.Equal(["100", "1000", "10000", "100000"], labels);
        Assert.All(labels, label => Assert.Matches($@">\s*{label}\s*</text>", svg));
        var range = figure.Plot.Axes.Left.Range;
        Assert.Equal((2.0, 5.0), (range.Min, range.Max));
        Assert.Contains("log", figure.Caption);
        Assert.Contains("3 seeds", figure.Caption);
    }

    [Fact]
    public void Sharpness_within_one_decade_still_has_labelled_ticks_on_the_log_axis()
    {
        var spec = Spec with { Analysis = new AnalysisSpec { Sharpness = new SharpnessSpec { Spaces = ["full"], Epsilons = [1e-3] } } };
        var results = GridExpander.Expand(spec).ToDictionary(t => t.TrialId, t => Completed(t.TrialId, Seeds3[t.Seed]) with
        {
            Analysis = new TrialAnalysis { Sharpness = [new("full", 1e-3, t.BatchSize == 16 ? 148 : 263, 0.1, 0.2, 10, 11, 1)] },
        });
        var figure = Named(StudyFigures.Build(spec, results, []), "sharpness-full-0.001");
        Svg(figure); // ticks are generated when drawn
        var labels = figure.Plot.Axes.Left.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Label).ToList();
        Assert.Equal(["100", "200", "500", "1000"], labels);
    }

    [Fact]
    public void A_ghost_study_with_one_sgd_batch_draws_accuracy_vs_bn_batch_as_a_line_not_a_heatmap()
    {
        var spec = Spec with { Grid = Spec.Grid with { BatchSizes = [64], BnModes = ["ghost:4", "ghost:16", "batch"] } };
        var trials = GridExpander.Expand(spec);
        double Of(TrialSpec t) => t.BnMode switch { "ghost:4" => 0.86, "ghost:16" => 0.87, _ => 0.85 } + 0.01 * t.Seed - (t.BaseLearningRate > 0.01 ? 0.05 : 0);
        var results = trials.ToDictionary(t => t.TrialId, t => Completed(t.TrialId, Of(t)));
        var figures = StudyFigures.Build(spec, results, []);

        Assert.DoesNotContain(figures, f => f.Name == "bn-batch-vs-sgd-batch");
        var figure = Named(figures, "accuracy-vs-bn-batch");
        Assert.Empty(figure.Plot.GetPlottables().OfType<Heatmap>());
        var line = figure.Plot.GetPlottables().OfType<Scatter>().Single().Data.GetScatterPoints();
        Assert.Equal([2.0, 4.0, 6.0], line.Select(p => p.X));  // BN batch 4, 16 and 64 (the whole batch) on log2
        Assert.Equal([87.0, 88.0, 86.0], line.Select(p => p.Y), new Close()); // median over seeds of each seed's best over LRs
        Assert.Equal(9, Points(MarkersOf(figure, MarkerShape.FilledCircle)).Count);
        Assert.Contains("3 seeds", figure.Caption);
        Assert.Contains("best final test accuracy over the 2", figure.Caption);
    }

    [Fact]
    public void A_ghost_heatmap_over_several_sgd_batches_is_coloured_from_chance_to_100_percent()
    {
        var spec = Spec with { Grid = Spec.Grid with { BnModes = ["ghost:4", "batch"] } };
        var results = GridExpander.Expand(spec).ToDictionary(t => t.TrialId, t => Completed(t.TrialId, 0.861 + 0.007 * t.Seed));
        var figure = Named(StudyFigures.Build(spec, results, []), "bn-batch-vs-sgd-batch");
        var heatmap = figure.Plot.GetPlottables().OfType<Heatmap>().Single();
        Assert.Equal((10.0, 100.0), (heatmap.ManualRange!.Value.Min, heatmap.ManualRange!.Value.Max));
        Assert.Contains("fixed scale from chance", figure.Caption);
        Assert.Contains("3 seeds", figure.Caption);
    }

    [Fact]
    public void Stability_cells_are_coloured_by_accuracy_on_a_fixed_scale_with_divergence_and_chance_marked()
    {
        var spec = Spec with { Grid = Spec.Grid with { BaseLearningRates = [Math.Pow(2, -8), Math.Pow(2, -6), Math.Pow(2, -4)] } };
        var results = new Dictionary<string, TrialResult>();
        foreach (var t in GridExpander.Expand(spec))
            results[t.TrialId] = (t.BatchSize, Math.Log2(t.BaseLearningRate)) switch
            {
                (64, -4) => Diverged(t.TrialId),                                                         // every seed diverged
                (16, -4) => t.Seed == 0 ? Diverged(t.TrialId) : Completed(t.TrialId, 0.8),              // unstable: 1 of 3
                (64, -6) => Completed(t.TrialId, 0.11),                                                  // converged, at chance
                _ => Completed(t.TrialId, Seeds3[t.Seed]),
            };
        var figure = Named(StudyFigures.Build(spec, results, []), "stability-none");
        var plottables = figure.Plot.GetPlottables().ToList();

        var heatmap = plottables.OfType<Heatmap>().Single();
        Assert.Equal((0.0, 100.0), (heatmap.ManualRange!.Value.Min, heatmap.ManualRange!.Value.Max));
        // Row 0 = m 16, column = eta~; values are median accuracies in %, NaN where no seed converged.
        Assert.Equal(83, heatmap.Intensities[0, 0], 6);
        Assert.Equal(11, heatmap.Intensities[1, 1], 6);
        Assert.True(double.IsNaN(heatmap.Intensities[1, 2]));

        var labels = plottables.OfType<Text>().Select(t => t.LabelText).ToList();
        Assert.Contains("diverged", labels);
        Assert.Contains("80.0\n1/3 diverged", labels);
        Assert.Contains("11.0\nnear chance", labels);
        // Hatching over the diverged cell only (x = column 2, y = row of m 64 = 0), a frame around the near-chance one.
        var hatch = plottables.OfType<LinePlot>().ToList();
        Assert.NotEmpty(hatch);
        Assert.All(hatch, l => Assert.True(l.Start.X >= 1.5 && l.End.X <= 2.5 && l.Start.Y >= -0.5 && l.End.Y <= 0.5, "hatching stays in its cell"));
        var frame = plottables.OfType<ScottPlot.Plottables.Rectangle>().Single();
        Assert.InRange(frame.CoordinateRect.HorizontalCenter, 0.9, 1.1);
        Assert.InRange(frame.CoordinateRect.VerticalCenter, -0.1, 0.1);
        string svg = Svg(figure);
        Assert.Contains("median test accuracy (%)", svg);
        Assert.Contains("3 seeds", figure.Caption);
        // The cells reach SVG as a bitmap of one pixel each: drawn as flat blocks, never smoothed into each other.
        var images = System.Text.RegularExpressions.Regex.Matches(svg, "<image [^>]*>");
        Assert.NotEmpty(images);
        Assert.All(images, m => Assert.Contains("image-rendering:pixelated", m.Value));
    }

    [Fact]
    public void Every_caption_but_the_interpolation_names_the_seed_count()
    {
        var spec = Spec with
        {
            Grid = Spec.Grid with { Seeds = [7], BnModes = ["ghost:4", "batch"] },
            Analysis = new AnalysisSpec { Sharpness = new SharpnessSpec { Spaces = ["full"], Epsilons = [1e-3] }, Hessian = new HessianSpec() },
        };
        var results = GridExpander.Expand(spec).ToDictionary(t => t.TrialId, t => Completed(t.TrialId, 0.8) with
        {
            Analysis = new TrialAnalysis { Sharpness = [new("full", 1e-3, 50, 0.1, 0.2, 10, 11, 1)] },
        });
        var figures = StudyFigures.Build(spec, results, []);
        Assert.Contains(figures, f => f.Name == "hessian-top-eigenvalue");
        Assert.All(figures, f => Assert.Contains("1 seed", f.Caption));

        var (three, threeResults) = ThreeSeedStudy();
        Assert.All(StudyFigures.Build(three, threeResults, []), f => Assert.Contains("3 seeds", f.Caption));
    }

    [Fact]
    public void A_study_without_results_yet_still_draws_every_figure()
    {
        // The live page draws a sweep that has just started.
        var spec = Spec with { Grid = Spec.Grid with { BnModes = ["ghost:4"] }, Analysis = new AnalysisSpec { Sharpness = new SharpnessSpec { Spaces = ["full"], Epsilons = [1e-3] } } };
        foreach (var figure in StudyFigures.Build(spec, new Dictionary<string, TrialResult>(), []))
            Assert.Contains("<svg", Svg(figure));
    }

    private sealed class Close : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-9;
        public int GetHashCode(double obj) => 0;
    }
}
