using TorchSharp;
using OrleansSweep.Training.Trainer.ScalarSafe;
using OrleansSweep.Core.Results;
using OrleansSweep.Training.Trainer;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Landscape;

/// <summary>
/// Keskar et al.'s 1-d parametric plot between a small-batch solution (alpha = 0) and a large-batch one (alpha = 1),
/// extended to alpha in [-1, 2]. Every floating-point state entry is interpolated, BN running statistics included;
/// integer entries (BN batch counters) are taken from the small-batch solution. With batch statistics BN normalises
/// each evaluation batch by its own statistics instead, and the interpolated running statistics go unused.
/// </summary>
public static class LineInterpolation
{
    public static IReadOnlyList<double> DefaultAlphas { get; } = Alphas(25);

    /// <summary><paramref name="points"/> evenly spaced values from -1 to 2.</summary>
    public static IReadOnlyList<double> Alphas(int points) => Enumerable.Range(0, points).Select(i => -1.0 + 3.0 * i / (points - 1)).ToList();

    public static IReadOnlyList<InterpolationPoint> Evaluate(nn.Module<Tensor, Tensor> model,
        IReadOnlyDictionary<string, Tensor> smallBatch, IReadOnlyDictionary<string, Tensor> largeBatch,
        TensorData data, IReadOnlyList<double>? alphas = null, int evaluationBatchSize = 1000, bool batchStatistics = false)
    {
        var keys = model.state_dict().Keys.ToList();
        var missing = keys.Where(k => !smallBatch.ContainsKey(k) || !largeBatch.ContainsKey(k)).ToList();
        if (missing.Count > 0) throw new ArgumentException($"the two solutions lack state entries of the model: {string.Join(", ", missing.Take(5))}.");
        var points = new List<InterpolationPoint>();
        foreach (double alpha in alphas ?? DefaultAlphas)
        {
            Load(model, smallBatch, largeBatch, alpha);
            var (trainLoss, trainAccuracy) = TrialTrainer.Evaluate(model, data.TrainImages, data.TrainLabels, evaluationBatchSize, batchStatistics);
            var (testLoss, testAccuracy) = TrialTrainer.Evaluate(model, data.TestImages, data.TestLabels, evaluationBatchSize, batchStatistics);
            points.Add(new InterpolationPoint(alpha, trainLoss, InterpolationPoint.AccuracyWhereDefined(trainLoss, trainAccuracy),
                testLoss, InterpolationPoint.AccuracyWhereDefined(testLoss, testAccuracy)));
        }
        return points;
    }

    /// <summary>Sets the model's state to the interpolation at <paramref name="alpha"/>.</summary>
    public static void Load(nn.Module model, IReadOnlyDictionary<string, Tensor> smallBatch, IReadOnlyDictionary<string, Tensor> largeBatch, double alpha)
    {
        using var noGrad = no_grad();
        foreach (var (key, target) in model.state_dict())
        {
            var small = smallBatch[key];
            var large = largeBatch[key];
            if (!small.is_floating_point())
            {
                target.copy_(small);
                continue;
            }
            using var largeWeight = alpha.ToScalar();
            using var smallWeight = (1 - alpha).ToScalar();
            using var mixed = large.mul(largeWeight).add_(small, smallWeight);
            target.copy_(mixed);
        }
    }
}
