using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Study;
using ScottPlot;

namespace OrleansSweep.Reporting;

/// <summary>
/// `report`: a study's figures as PNG and SVG files plus one self-contained report.html (figures embedded, the grid
/// numbers as tables, links to the CSV/JSON beside it), in &lt;study&gt;/report. The folder is built aside and swapped in,
/// so a reader never sees half a report.
/// </summary>
public static class StudyReport
{
    public const string DirectoryName = StudyLayout.ReportDirectoryName;
    public const string HtmlFileName = StudyLayout.ReportHtmlFileName;

    /// <summary>Writes the report folder and returns the path of report.html.</summary>
    public static string Write(string studyDirectory, StudyResults study)
    {
        var grids = ResultGrid.Build(study.Spec, study.Results);
        var figures = StudyFigures.Build(study);
        string target = Path.Combine(studyDirectory, DirectoryName);
        OutputPath.CheckDirectory(target, advice: "the report goes there; move the file aside");
        string building = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        Directory.CreateDirectory(building);
        try
        {
            var embedded = new List<(Figure Figure, string Png)>();
            foreach (var figure in figures)
            {
                byte[] png = figure.Plot.GetImageBytes(StudyFigures.Width, StudyFigures.Height, ImageFormat.Png);
                File.WriteAllBytes(Path.Combine(building, figure.Name + ".png"), png);
                File.WriteAllText(Path.Combine(building, figure.Name + ".svg"), figure.ToSvg());
                embedded.Add((figure, Convert.ToBase64String(png)));
            }
            File.WriteAllText(Path.Combine(building, HtmlFileName), Html(study, grids, embedded), new UTF8Encoding(false));
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(building, target);
        }
        finally
        {
            if (Directory.Exists(building)) Directory.Delete(building, recursive: true);
        }
        return Path.Combine(target, HtmlFileName);
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
    private static string Percent(double? value) => value is double v ? AccuracyFormat.Percent(v) : "";

    private static string Html(StudyResults study, IReadOnlyList<ResultGrid> grids, IReadOnlyList<(Figure Figure, string Png)> figures)
    {
        var spec = study.Spec;
        int count(TrialStatus s) => study.Results.Values.Count(r => r.Status == s);
        var html = new StringBuilder();
        html.Append($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{{E(spec.Name)}}: OrleansSweep report</title>
            <style>
              body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; color: #222; }
              table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #bbb; padding: 4px 8px; text-align: right; }
              th { background: #f0f0f0; } td.diverged { background: #f8d0d0; } td.unstable { background: #fbe7c0; }
              figure { margin: 1.5em 0; } figcaption { color: #555; font-size: 0.95em; } img { max-width: 100%; border: 1px solid #ddd; }
            </style></head><body>
            <h1>Sweep {{E(spec.Name)}}</h1>
            <p>{{E(spec.Model.Architecture)}} on {{E(spec.Dataset.Name)}} ({{spec.Dataset.TrainSubset?.ToString(CultureInfo.InvariantCulture) ?? "all"}} training images),
            {{spec.Training.Epochs}} epochs for every batch size, {{(spec.Training.LearningRateScaling == "none" ? "the same eta for every batch size" : "eta = m &times; eta~")}}, schedule {{E(spec.Training.Schedule)}}.
            {{study.Trials.Count}} trials: {{count(TrialStatus.Completed)}} converged, {{count(TrialStatus.Diverged)}} diverged, {{count(TrialStatus.Failed)}} failed.
            Accuracy = median test accuracy of the final 5 epochs, then the median over seeds.</p>
            <p>Data: <a href="../{{StudyLayout.ResultsCsvFileName}}">{{StudyLayout.ResultsCsvFileName}}</a>, <a href="../{{StudyLayout.GridsCsvFileName}}">{{StudyLayout.GridsCsvFileName}}</a>,
            <a href="../{{StudyLayout.ResultsJsonFileName}}">{{StudyLayout.ResultsJsonFileName}}</a>; figures as PNG and SVG in this folder.</p>
            """);
        foreach (var grid in grids)
        {
            html.Append($"<h2>BN {E(grid.BnMode)}: test accuracy (%)</h2><table><tr><th>m \\ {spec.Training.LearningRateAxis.Symbol}</th>");
            foreach (double lr in grid.BaseLearningRates) html.Append($"<th>{E(LearningRateFormat.Format(lr))}</th>");
            html.Append("</tr>");
            for (int b = 0; b < grid.BatchSizes.Count; b++)
            {
                html.Append($"<tr><th>{grid.BatchSizes[b]}</th>");
                for (int l = 0; l < grid.BaseLearningRates.Count; l++)
                {
                    var cell = grid[b, l];
                    string text = cell.MedianAccuracy is not null ? Percent(cell.MedianAccuracy) + (cell.Diverged > 0 ? $" ({cell.Diverged} div)" : "") : cell.Status;
                    html.Append($"<td class=\"{cell.Status}\" data-batch=\"{cell.BatchSize}\" data-lr=\"{cell.BaseLearningRate.ToString("R", CultureInfo.InvariantCulture)}\">{E(text)}</td>");
                }
                html.Append("</tr>");
            }
            html.Append("</table>");
        }
        foreach (var (figure, png) in figures)
            html.Append($"<figure id=\"{E(figure.Name)}\"><img alt=\"{E(figure.Caption)}\" src=\"data:image/png;base64,{png}\"><figcaption>{E(figure.Caption)}</figcaption></figure>\n");
        html.Append("</body></html>\n");
        return html.ToString();
    }
}

