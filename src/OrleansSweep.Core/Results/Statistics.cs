namespace OrleansSweep.Core.Results;

public static class Statistics
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("the median of no values is undefined.", nameof(values));
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Masters &amp; Luschi report the median test accuracy of the final five epochs.</summary>
    public static double FinalAccuracy(IReadOnlyList<EpochMetrics> epochs, int window = 5) =>
        Median(epochs.TakeLast(window).Select(e => e.TestAccuracy));

    public static double FinalLoss(IReadOnlyList<EpochMetrics> epochs, int window = 5) =>
        Median(epochs.TakeLast(window).Select(e => e.TestLoss));
}
