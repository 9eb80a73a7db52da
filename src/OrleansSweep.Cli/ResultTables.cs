using System.Globalization;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace OrleansSweep.Cli;

/// <summary>Batch size (rows) x base learning rate (columns) tables, one per BN mode: accuracy, landscape measures, live state.</summary>
public static class ResultTables
{
    public static IEnumerable<IRenderable> Render(IReadOnlyList<ResultGrid> grids) =>
        grids.Select(grid => GridTable(grid.BatchSizes, grid.BaseLearningRates, (b, l) => Cell(grid[b, l]))
            .Title($"BN {grid.BnMode}: test accuracy, median over seeds")
            .Caption("rows: batch m; columns: eta~ = eta/m"));

    /// <summary>Median eps-sharpness (the first measure asked for) and top Hessian eigenvalue per cell, when measured.</summary>
    public static IEnumerable<IRenderable> RenderLandscape(IReadOnlyList<ResultGrid> grids, IReadOnlyList<string> sharpnessKeys, bool hessian)
    {
        if (sharpnessKeys.Count == 0 && !hessian) return [];
        string? key = sharpnessKeys.FirstOrDefault();
        string measures = string.Join(" / ", new[] { key is null ? null : $"sharpness {key}", hessian ? "top Hessian eigenvalue" : null }.OfType<string>());
        string Text(double? value) => value is double v ? v.ToString("G3", CultureInfo.InvariantCulture) : "-";
        return grids.Select(grid => GridTable(grid.BatchSizes, grid.BaseLearningRates, (b, l) =>
        {
            var cell = grid[b, l];
            var parts = new List<string>();
            if (key is not null) parts.Add(Text(cell.MedianSharpness?.GetValueOrDefault(key)));
            if (hessian) parts.Add(Text(cell.MedianHessianEigenvalue));
            return string.Join(" / ", parts);
        }).Title($"BN {grid.BnMode}: {measures}, median over seeds"));
    }

    /// <summary>Batch sizes as rows, base LRs as columns, each cell's markup from <paramref name="cell"/>(batch index, LR index).</summary>
    public static Table GridTable(IReadOnlyList<int> batchSizes, IReadOnlyList<double> baseLearningRates, Func<int, int, string> cell)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn(new TableColumn("m \\ eta~").RightAligned());
        foreach (double lr in baseLearningRates) table.AddColumn(new TableColumn(LearningRateFormat.Format(lr)).RightAligned());
        for (int b = 0; b < batchSizes.Count; b++)
            table.AddRow([batchSizes[b].ToString(CultureInfo.InvariantCulture), .. Enumerable.Range(0, baseLearningRates.Count).Select(l => cell(b, l))]);
        return table;
    }

    public static string Cell(GridCell cell)
    {
        if (cell.MedianAccuracy is double accuracy)
        {
            string text = AccuracyFormat.Percent(accuracy) + "%";
            if (cell.Diverged > 0) text += $" ({cell.Diverged} div)";
            return text;
        }
        if (cell.Diverged > 0) return "[red]diverged[/]";
        if (cell.Failed > 0) return "[yellow]failed[/]";
        if (cell.Cancelled > 0) return "[grey]cancelled[/]";
        return "[grey]-[/]";
    }
}
