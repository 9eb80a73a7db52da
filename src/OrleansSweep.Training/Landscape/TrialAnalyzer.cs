using System.Diagnostics;
using System.Runtime.InteropServices;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Training.Trainer;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Landscape;

/// <summary>
/// The analysis stage after a trial has trained: the weight norms, eps-sharpness for each requested space and epsilon
/// (within a space in ascending eps, warm-started: <see cref="Sharpness.MeasureAscending"/>), then the top Hessian
/// eigenvalue, all of f = mean training cross-entropy on the spec's seeded evaluation subset, BN in eval mode.
/// A measurement that fails (a flat or diverged landscape) is reported in <see cref="TrialAnalysis.Error"/>; the
/// trained result stands.
/// </summary>
public static class TrialAnalyzer
{
    /// <summary>Double backward keeps several activations per image alive: Hessian products use chunks of at most this many.</summary>
    private const int HessianChunk = 256;

    public static TrialAnalysis Analyze(AnalysisSpec spec, int trialSeed, int evaluationBatchSize, nn.Module<Tensor, Tensor> model,
        TensorData data, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var (images, labels) = EvaluationSubset(data, spec.EvaluationSubset, spec.SubsetSeed);
        var sharpness = new List<SharpnessMeasurement>();
        EigenvalueMeasurement? hessian = null;
        double trainLoss = double.NaN;
        double? trainAccuracy = null;
        string? error = null;
        IReadOnlyDictionary<string, double>? weightNorms = null;
        using (images)
        using (labels)
        {
            try
            {
                weightNorms = WeightNorms(model);
                trainAccuracy = TrialTrainer.Evaluate(model, images, labels, evaluationBatchSize).Accuracy;
                using (var flat = new FlatParameters(model, images, labels, evaluationBatchSize))
                {
                    var (loss, gradient) = flat.LossAndGradient();
                    gradient.Dispose();
                    trainLoss = loss;
                    if (spec.Sharpness is { } s)
                        foreach (string space in s.Spaces)
                        {
                            // Measured in ascending eps, each from the previous maximiser (monotone by construction);
                            // reported in the spec's order, so the list reads as before warm starts.
                            var measured = Sharpness.MeasureAscending(flat, space, s.Epsilons, s.Iterations, s.SubspaceDimension,
                                s.SubspaceSeed, cancellation);
                            sharpness.AddRange(s.Epsilons.Select(eps => measured.First(m => m.Epsilon == eps)));
                        }
                }
                if (spec.Hessian is { } h)
                {
                    using var flat = new FlatParameters(model, images, labels, Math.Min(evaluationBatchSize, HessianChunk));
                    var eigenClock = Stopwatch.StartNew();
                    var estimate = HessianEigenvalue.TopEigenvalue(flat, h.MaxIterations, h.Tolerance, trialSeed, cancellation);
                    hessian = new EigenvalueMeasurement(estimate.Eigenvalue, estimate.Iterations, estimate.Converged, eigenClock.Elapsed.TotalSeconds);
                }
            }
            catch (Exception e) when (e is ArithmeticException or ArgumentException or InvalidOperationException or ExternalException)
            {
                error = e.Message;
            }
        }
        return new TrialAnalysis
        {
            EvaluationSubset = (int)Math.Min(spec.EvaluationSubset, data.TrainImages.shape[0]), TrainLoss = trainLoss,
            TrainAccuracy = trainAccuracy,
            Sharpness = sharpness, WeightNorms = weightNorms, Hessian = hessian, Error = error, Seconds = clock.Elapsed.TotalSeconds,
        };
    }

    /// <summary>
    /// The L2 norm of every parameter tensor, by name, in the model's order: the scale Keskar's box is drawn at, so
    /// sharpness values can be read beside it (two functionally equal networks can differ in both).
    /// </summary>
    public static IReadOnlyDictionary<string, double> WeightNorms(nn.Module model)
    {
        using var scope = NewDisposeScope();
        var norms = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, parameter) in model.named_parameters())
            norms[name] = parameter.detach().to(ScalarType.Float64).norm().item<double>();
        return norms;
    }

    /// <summary>The same seeded draw of training images for every trial (it depends only on the set and the seed).</summary>
    public static (Tensor Images, Tensor Labels) EvaluationSubset(TensorData data, int size, int seed)
    {
        long count = data.TrainImages.shape[0];
        if (size >= count) return (data.TrainImages.alias(), data.TrainLabels.alias());
        using var generator = new Generator((ulong)seed);
        using var scope = NewDisposeScope();
        var index = randperm(count, generator: generator).narrow(0, 0, size).sort().Values.to(data.TrainImages.device);
        return (data.TrainImages.index_select(0, index).MoveToOuterDisposeScope(), data.TrainLabels.index_select(0, index).MoveToOuterDisposeScope());
    }
}
