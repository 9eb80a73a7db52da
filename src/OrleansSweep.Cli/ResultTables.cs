using System.Globalization;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace OrleansSweep.Cli;

/// <summary>Final test accuracy per batch size (rows) x base learning rate (columns), one table per BN mode.</summary>
public static class ResultTables
{
    public static IEnumerable<IRenderable> Render(IReadOnlyList<ResultGrid> grids)
    {
        foreach (var grid in grids)
        {
            var table = new Table().Border(TableBorder.Rounded)
                .Title($"BN {grid.BnMode}: test accuracy, median over seeds")
                .Caption("rows: batch m; columns: eta~ = eta/m");
            table.AddColumn(new TableColumn("m \\ eta~").RightAligned());
            foreach (double lr in grid.BaseLearningRates)
                table.AddColumn(new TableColumn(LearningRateFormat.Format(lr)).RightAligned());
            for (int b = 0; b < grid.BatchSizes.Count; b++)
            {
                var row = new List<string> { grid.BatchSizes[b].ToString(CultureInfo.InvariantCulture) };
                for (int l = 0; l < grid.BaseLearningRates.Count; l++) row.Add(Cell(grid[b, l]));
                table.AddRow(row.ToArray());
            }
            yield return table;
        }
    }

    /// <summary>Median eps-sharpness (the first measure asked for) and top Hessian eigenvalue per cell, when measured.</summary>
    public static IEnumerable<IRenderable> RenderLandscape(IReadOnlyList<ResultGrid> grids, IReadOnlyList<string> sharpnessKeys, bool hessian)
    {
        if (sharpnessKeys.Count == 0 && !hessian) yield break;
        string? key = sharpnessKeys.FirstOrDefault();
        string measures = string.Join(" / ", new[] { key is null ? null : $"sharpness {key}", hessian ? "top Hessian eigenvalue" : null }.OfType<string>());
        foreach (var grid in grids)
        {
            var table = new Table().Border(TableBorder.Rounded).Title($"BN {grid.BnMode}: {measures}, median over seeds");
            table.AddColumn(new TableColumn("m \\ eta~").RightAligned());
            foreach (double lr in grid.BaseLearningRates)
                table.AddColumn(new TableColumn(LearningRateFormat.Format(lr)).RightAligned());
            for (int b = 0; b < grid.BatchSizes.Count; b++)
            {
                var row = new List<string> { grid.BatchSizes[b].ToString(CultureInfo.InvariantCulture) };
                for (int l = 0; l < grid.BaseLearningRates.Count; l++)
                {
                    var cell = grid[b, l];
                    var parts = new List<string>();
                    if (key is not null) parts.Add(cell.MedianSharpness?.GetValueOrDefault(key) is double phi ? phi.ToString("G3", CultureInfo.InvariantCulture) : "-");
                    if (hessian) parts.Add(cell.MedianHessianEigenvalue is double lambda ? lambda.ToString("G3", CultureInfo.InvariantCulture) : "-");
                    row.Add(string.Join(" / ", parts));
                }
                table.AddRow(row.ToArray());
            }
            yield return table;
        }
    }

    public static string Cell(GridCell cell)
    {
        if (cell.MedianAccuracy is double accuracy)
        {
            string text = (accuracy * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";
            if (cell.Diverged > 0) text += $" ({cell.Diverged} div)";
            return text;
        }
        if (cell.Diverged > 0) return "[red]diverged[/]";
        if (cell.Failed > 0) return "[yellow]failed[/]";
        if (cell.Cancelled > 0) return "[grey]cancelled[/]";
        return "[grey]-[/]";
    }
}
