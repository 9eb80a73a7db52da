using System.Diagnostics;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Trainer;

/// <summary>Where and how one trial trains.</summary>
public sealed record TrainingContext(Device Device);

/// <summary>
/// Trains one trial: plain SGD at eta = m * eta~ with the spec's weight decay and momentum, the same epoch budget
/// for every batch size, every step a full batch of m drawn by a seeded permutation per epoch (the last partial
/// batch is dropped), and test loss and accuracy after every epoch. Divergence ends the trial as a result.
/// </summary>
/// <remarks>Synchronous and CPU-bound: callers run it on a dedicated thread, never on a grain scheduler.</remarks>
public static class TrialTrainer
{
    /// <summary>Layer constructors draw from libtorch's global RNG: build models one at a time, right after seeding.</summary>
    private static readonly Lock ModelConstruction = new();

    public static TrialResult Train(TrialSpec trial, DatasetPair data, TrainingContext context,
        IProgress<EpochMetrics>? progress = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        if (!ModelArchitecture.TryParse(trial.Model.Architecture, out int blocks))
            throw new ArgumentException($"model.architecture: unknown model '{trial.Model.Architecture}'.");
        if (trial.BatchSize > data.Train.Count)
            throw new DatasetException($"grid.batchSizes: batch size {trial.BatchSize} is larger than the training set ({data.Train.Count} images).");

        var device = context.Device;
        using var tensors = TensorData.Create(data, device);
        CifarResNet model;
        lock (ModelConstruction)
        {
            torch.manual_seed(trial.Seed);
            model = new CifarResNet(blocks, trial.ParsedBnMode, data.Train.Channels);
        }
        using var disposeModel = model;
        model.to(device);
        model.train();

        double peakLearningRate = trial.LearningRate;
        using var optimizer = optim.SGD(model.parameters(), peakLearningRate, trial.Training.Momentum,
            weight_decay: trial.Training.WeightDecay);
        using var generator = new Generator((ulong)trial.Seed);

        int stepsPerEpoch = data.Train.Count / trial.BatchSize;
        long totalSteps = (long)stepsPerEpoch * trial.Training.Epochs;
        long step = 0;
        double? initialLoss = null;
        var epochs = new List<EpochMetrics>();

        for (int epoch = 1; epoch <= trial.Training.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            using var permutation = randperm(data.Train.Count, generator: generator).to(device);
            double lossSum = 0;
            for (int s = 0; s < stepsPerEpoch; s++, step++)
            {
                cancellation.ThrowIfCancellationRequested();
                optimizer.ParamGroups.First().LearningRate = peakLearningRate * ScheduleFactor(trial.Training.Schedule, step, totalSteps);
                double loss;
                using (NewDisposeScope())
                {
                    var index = permutation.narrow(0, (long)s * trial.BatchSize, trial.BatchSize);
                    var output = model.forward(tensors.TrainImages.index_select(0, index));
                    var lossTensor = nn.functional.cross_entropy(output, tensors.TrainLabels.index_select(0, index));
                    optimizer.zero_grad();
                    lossTensor.backward();
                    optimizer.step();
                    loss = lossTensor.item<float>();
                }
                initialLoss ??= loss;
                if (!double.IsFinite(loss) || loss > trial.Training.DivergenceFactor * initialLoss.Value)
                {
                    return new TrialResult
                    {
                        TrialId = trial.TrialId, Status = TrialStatus.Diverged, Epochs = epochs,
                        DivergedAtEpoch = epoch, DivergenceLoss = loss, Device = device.ToString(), Seconds = clock.Elapsed.TotalSeconds,
                    };
                }
                lossSum += loss;
            }
            var (testLoss, testAccuracy) = Evaluate(model, tensors.TestImages, tensors.TestLabels, trial.Training.EvaluationBatchSize);
            var metrics = new EpochMetrics(epoch, lossSum / stepsPerEpoch, testLoss, testAccuracy, epochClock.Elapsed.TotalSeconds);
            epochs.Add(metrics);
            progress?.Report(metrics);
        }

        return new TrialResult
        {
            TrialId = trial.TrialId, Status = TrialStatus.Completed, Epochs = epochs,
            FinalTestAccuracy = Statistics.FinalAccuracy(epochs), FinalTestLoss = Statistics.FinalLoss(epochs),
            Device = device.ToString(), Seconds = clock.Elapsed.TotalSeconds,
        };
    }

    /// <summary>Multiplier of the peak LR at a step: "step" divides by 10 at 50% and again at 75% of all steps.</summary>
    public static double ScheduleFactor(string schedule, long step, long totalSteps) => schedule switch
    {
        "constant" => 1.0,
        "step" => step >= 0.75 * totalSteps ? 0.01 : step >= 0.5 * totalSteps ? 0.1 : 1.0,
        _ => throw new ArgumentException($"training.schedule: unknown schedule '{schedule}'."),
    };

    /// <summary>Mean cross-entropy and accuracy over a set, in eval mode (BN running statistics), without gradients.</summary>
    public static (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, int batchSize)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            long count = images.shape[0];
            double lossSum = 0;
            long correct = 0;
            for (long start = 0; start < count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                long length = Math.Min(batchSize, count - start);
                var output = model.forward(images.narrow(0, start, length));
                var target = labels.narrow(0, start, length);
                lossSum += nn.functional.cross_entropy(output, target, reduction: nn.Reduction.Sum).item<float>();
                correct += output.argmax(1).eq(target).sum().item<long>();
            }
            return (lossSum / count, (double)correct / count);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }
}
