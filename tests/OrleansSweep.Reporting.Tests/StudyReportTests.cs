using System.Text.RegularExpressions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using static OrleansSweep.TestSupport.SampleResults;
using OrleansSweep.Study;

namespace OrleansSweep.Reporting.Tests;

public class StudyReportTests
{
    [Fact]
    public void Report_reads_the_study_back_and_holds_every_figure_embedded_with_the_grid_numbers()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"study-{Guid.NewGuid():N}");
        try
        {
            var results = WriteSampleStudy(directory);

            var read = StudyFiles.Read(directory);
            Assert.Equal(results.Count, read.Results.Count);
            var back = read.Results["bs16-lr2^-8-none-s0"];
            Assert.Equal((TrialStatus.Completed, 0.8125, 4.0), (back.Status, back.FinalTestAccuracy!.Value, back.Analysis!.Sharpness.Single().Sharpness));
            Assert.Equal(5, read.Results["interpolation-sb-lb"].Interpolation!.Points.Count);

            string html = File.ReadAllText(StudyReport.Write(directory, read));
            string[] expected = ["accuracy-vs-batch-none", "accuracy-vs-lr-none", "stability-none", "sharpness-full-0.001", "interpolation-sb-lb"];
            foreach (string figure in expected)
            {
                Assert.True(new FileInfo(Path.Combine(directory, StudyLayout.ReportDirectoryName, figure + ".png")).Length > 1000, figure);
                Assert.Contains("<svg", File.ReadAllText(Path.Combine(directory, StudyLayout.ReportDirectoryName, figure + ".svg")));
                Assert.Contains($"<figure id=\"{figure}\"><img", html);
            }
            Assert.Equal(expected.Length, Regex.Matches(html, "src=\"data:image/png;base64,").Count);
            // Each caption says over how many seeds (the sample has 3 per cell).
            Assert.Equal(expected.Length - 1, Regex.Matches(html, "<figcaption>[^<]*3 seeds[^<]*</figcaption>").Count);
            // The table shows the grid's numbers: medians over seeds, diverged cells named, not dropped.
            Assert.Contains("data-batch=\"16\" data-lr=\"0.00390625\">81.3</td>", html);
            Assert.Contains("data-batch=\"64\" data-lr=\"0.00390625\">62.5</td>", html);
            Assert.Contains("<td class=\"diverged\" data-batch=\"64\" data-lr=\"0.015625\">diverged</td>", html);
            Assert.Empty(Directory.GetDirectories(directory, "*.tmp"));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Fact]
    public void An_interrupted_study_with_a_bn_mode_not_yet_started_still_gets_its_report()
    {
        // What `run` writes when stopped part-way: one BN mode (and with it the ghost figure's rows) has no result yet,
        // so its heatmaps hold nothing but empty cells — this once ended the run in an internal error.
        string directory = Path.Combine(Path.GetTempPath(), $"study-{Guid.NewGuid():N}");
        try
        {
            var spec = Spec with { Grid = Spec.Grid with { BnModes = ["ghost:2", "ghost:4", "batch"] } };
            var trials = GridExpander.Expand(spec);
            var results = trials.Where(t => t.BnMode == "ghost:2").Take(3).ToDictionary(t => t.TrialId, t => Completed(t.TrialId, 0.75));
            StudyFiles.Write(directory, new StudyResults(spec, trials, results));

            string html = File.ReadAllText(StudyReport.Write(directory, StudyFiles.Read(directory)));

            foreach (string figure in (string[])["stability-ghost-4", "stability-batch", "bn-batch-vs-sgd-batch"])
            {
                Assert.True(new FileInfo(Path.Combine(directory, StudyLayout.ReportDirectoryName, figure + ".png")).Length > 1000, figure);
                Assert.Contains($"<figure id=\"{figure}\"><img", html);
            }
            // The BN-batch figure weighs the same candidates as `verify`: the ghost sizes and BN over the whole batch.
            string ghostFigure = File.ReadAllText(Path.Combine(directory, StudyLayout.ReportDirectoryName, "bn-batch-vs-sgd-batch.svg"));
            Assert.Contains("m (batch)", ghostFigure);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Theory]
    [InlineData(0.3, 150, true)]  // as on a real SB-LB line: the barrier between the solutions would vanish on a linear axis
    [InlineData(1, 5, false)]
    public void An_interpolation_whose_loss_spans_orders_of_magnitude_is_drawn_on_a_log_axis(double low, double high, bool log)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"study-{Guid.NewGuid():N}");
        try
        {
            var results = WriteSampleStudy(directory);
            var line = results["interpolation-sb-lb"].Interpolation!;
            results["interpolation-sb-lb"] = results["interpolation-sb-lb"] with
            {
                Interpolation = line with { Points = [.. line.Points.Select((p, i) => p with { TrainLoss = i == 0 ? high : low, TestLoss = low * 1.1 })] },
            };
            StudyFiles.Write(directory, new StudyResults(StudyFiles.Read(directory).Spec, GridExpander.Expand(StudyFiles.Read(directory).Spec), results));
            StudyReport.Write(directory, StudyFiles.Read(directory));
            string svg = File.ReadAllText(Path.Combine(directory, StudyLayout.ReportDirectoryName, "interpolation-sb-lb.svg"));
            Assert.Equal(log, svg.Contains("log scale"));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Fact]
    public void A_directory_that_is_not_a_study_is_named_in_the_error()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"not-a-study-{Guid.NewGuid():N}");
        var error = Assert.Throws<StudyReadException>(() => StudyFiles.Read(directory));
        Assert.Contains(directory, error.Message);
        Assert.Contains("spec.json", error.Message);
    }

    /// <summary>A study with every kind of figure: completed and diverged cells, sharpness and one interpolation.</summary>
    internal static Dictionary<string, TrialResult> WriteSampleStudy(string directory)
    {
        var spec = Spec with { Analysis = new AnalysisSpec { Sharpness = new SharpnessSpec { Spaces = ["full"], Epsilons = [1e-3] } } };
        var trials = GridExpander.Expand(spec);
        var results = trials.ToDictionary(t => t.TrialId, t => t.BaseLearningRate > 0.01
            ? new TrialResult { TrialId = t.TrialId, Status = TrialStatus.Diverged, DivergedAtEpoch = 1 }
            : Completed(t.TrialId, t.BatchSize == 16 ? 0.8125 : 0.625) with
            {
                Analysis = new TrialAnalysis { Sharpness = [new("full", 1e-3, t.BatchSize / 4.0, 0.1, 0.2, 10, 11, 1)] },
            });
        results["interpolation-sb-lb"] = new TrialResult
        {
            TrialId = "interpolation-sb-lb", Status = TrialStatus.Completed,
            Interpolation = new InterpolationResult("sb-lb", trials[0].TrialId, trials[2].TrialId,
                [.. Enumerable.Range(0, 5).Select(i => new InterpolationPoint(-1 + 0.75 * i, 1 + i, 0.5, 1.2 + i, 0.4))]),
        };
        StudyFiles.Write(directory, new StudyResults(spec, trials, results));
        return results;
    }
}
