using System.Diagnostics;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;
using OrleansSweep.Training.Checkpoints;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Landscape;
using OrleansSweep.Training.Models;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Trainer;

/// <summary>Where and how one trial trains, and where its artifacts go.</summary>
/// <param name="Device">cpu or cuda:N.</param>
/// <param name="Checkpoints">Where to checkpoint and resume from; null: neither.</param>
/// <param name="FinalWeightsPath">Where to export the final weights as a PyTorch state dict (.pt); null: not exported.</param>
/// <param name="AfterStep">Called after every SGD step with the number of steps taken so far (fine-grained progress).</param>
/// <param name="TensorBoardRun">Where to write the trial's TensorBoard event files (<see cref="TrialTensorBoard"/>); null: none.</param>
/// <param name="Threads">The intra-op threads the caller set for this trial (<see cref="TrialSetup.Prepare"/>), recorded in
/// its checkpoints and result; null: not known.</param>
public sealed record TrainingContext(Device Device, CheckpointStore? Checkpoints = null, string? FinalWeightsPath = null, Action<long>? AfterStep = null,
    string? TensorBoardRun = null, int? Threads = null);

/// <summary>
/// Trains one trial: SGD (or Adam) at eta = m * eta~ with the spec's momentum, weight decay, schedule and warm-up; the same
/// epoch budget for every batch size; every step a full batch of m drawn by a seeded permutation per epoch (the last
/// partial batch is dropped); test loss and accuracy after every epoch; a checkpoint after every k-th epoch. Resuming
/// from a checkpoint continues bit-identically on CPU (same seed, same threads). Divergence ends the trial as a result.
/// </summary>
/// <remarks>Synchronous and CPU-bound: callers run it on a dedicated thread, never on a grain scheduler.</remarks>
public static class TrialTrainer
{
    public static TrialResult Train(TrialSpec trial, DatasetPair data, TrainingContext context,
        IProgress<EpochMetrics>? progress = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        if (trial.BatchSize > data.Train.Count)
            throw new DatasetException($"grid.batchSizes: batch size {trial.BatchSize} is larger than the training set ({data.Train.Count} images).");

        var device = context.Device;
        using var tensors = TensorData.Create(data, device);
        using var model = ModelFactory.Create(trial.Model, trial.ParsedBnMode, trial.Seed, data.Train.Channels, data.Train.Height, data.Train.Width);
        model.to(device);
        model.train();

        double peakLearningRate = trial.LearningRate;
        using var optimizer = CreateOptimizer(trial.Training, model, peakLearningRate);
        using var permutationRng = new Generator((ulong)trial.Seed);
        using var augmentationRng = new Generator((ulong)trial.Seed ^ 0x5EED_A11C_E5L);

        int stepsPerEpoch = data.Train.Count / trial.BatchSize;
        long totalSteps = (long)stepsPerEpoch * trial.Training.Epochs;
        long step = 0;
        double? initialLoss = null;
        var epochs = new List<EpochMetrics>();
        var warnings = new List<string>();
        int? resumedFrom = null;
        long? resumedFromStep = null;
        int resumeSteps = 0;
        double resumeLossSum = 0;
        long resumeCorrect = 0;
        string fingerprint = TrialFingerprint.Compute(trial);

        if (context.Checkpoints is { } store)
        {
            var load = store.LoadLatest(fingerprint);
            warnings.AddRange(load.Problems);
            if (load.Checkpoint is { } checkpoint)
            {
                Restore(checkpoint, model, optimizer, permutationRng, augmentationRng);
                step = checkpoint.Step;
                initialLoss = checkpoint.InitialLoss;
                epochs.AddRange(checkpoint.Epochs.Select(e => new EpochMetrics(e.Epoch, e.TrainLoss, e.TestLoss, e.TestAccuracy, e.Seconds, e.TrainAccuracy)));
                resumedFrom = checkpoint.EpochsDone;
                resumedFromStep = checkpoint.Step;
                (resumeSteps, resumeLossSum, resumeCorrect) = (checkpoint.PartialEpochSteps, checkpoint.PartialEpochLossSum, checkpoint.PartialEpochCorrect);
                // A checkpoint from before threads were recorded cannot say which it trained with (TrialSetup.ThreadsFor).
                if (checkpoint.Threads is null && trial.Training.Threads is null && context.Threads is int now)
                    warnings.Add($"resumed from a checkpoint that does not record its threads: continued with {now}; if the trial began " +
                                 "with others (an older version's cores / slots), its later numbers differ from an uninterrupted run's.");
            }
        }
        var board = context.TensorBoardRun is { } run ? new TrialTensorBoard(run, trial, step) : null;

        TrialResult Result(TrialStatus status) => new()
        {
            TrialId = trial.TrialId, Status = status, Epochs = epochs.ToList(), Device = device.ToString(), Threads = context.Threads,
            Seconds = clock.Elapsed.TotalSeconds, ResumedFromEpoch = resumedFrom, ResumedFromStep = resumedFromStep, Warnings = warnings.ToList(),
        };

        for (int epoch = epochs.Count + 1; epoch <= trial.Training.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            byte[]? permutationRngBeforeEpoch = context.Checkpoints is null ? null : GeneratorState(permutationRng);
            using var permutation = randperm(data.Train.Count, generator: permutationRng).to(device);
            double lossSum = resumeLossSum;
            long correct = resumeCorrect;
            int firstStep = resumeSteps;
            (resumeSteps, resumeLossSum, resumeCorrect) = (0, 0, 0);
            for (int s = firstStep; s < stepsPerEpoch; s++, step++)
            {
                if (cancellation.IsCancellationRequested)
                {
                    // Stopped part-way (a silo shutting down, a pause): keep the steps taken, so whoever resumes
                    // the trial continues from this step rather than from the last epoch boundary.
                    if (context.Checkpoints is { } stopStore && s > firstStep)
                        stopStore.Save(Capture(trial, fingerprint, epochs, step, initialLoss, model, optimizer, permutationRng, augmentationRng,
                            new PartialEpoch(permutationRngBeforeEpoch!, s, lossSum, correct), context.Threads));
                    cancellation.ThrowIfCancellationRequested();
                }
                double learningRate = peakLearningRate * LearningRateSchedule.Factor(trial.Training, step, totalSteps);
                optimizer.ParamGroups.First().LearningRate = learningRate;
                double loss;
                using (NewDisposeScope())
                {
                    var index = permutation.narrow(0, (long)s * trial.BatchSize, trial.BatchSize);
                    var images = tensors.TrainImages.index_select(0, index);
                    if (trial.Dataset.Augment) images = Augmentation.PadCropFlip(images, augmentationRng);
                    var labels = tensors.TrainLabels.index_select(0, index);
                    var output = model.forward(images);
                    var lossTensor = nn.functional.cross_entropy(output, labels);
                    optimizer.zero_grad();
                    lossTensor.backward();
                    optimizer.step();
                    loss = lossTensor.item<float>();
                    correct += output.argmax(1).eq(labels).sum().item<long>();
                }
                initialLoss ??= loss;
                if (!double.IsFinite(loss) || loss > trial.Training.DivergenceFactor * initialLoss.Value)
                {
                    board?.Step(step + 1, loss, learningRate, always: true);
                    return Result(TrialStatus.Diverged) with { DivergedAtEpoch = epoch, DivergenceLoss = loss };
                }
                board?.Step(step + 1, loss, learningRate);
                lossSum += loss;
                context.AfterStep?.Invoke(step + 1);
            }
            var (testLoss, testAccuracy) = Evaluate(model, tensors.TestImages, tensors.TestLabels, trial.Training.EvaluationBatchSize);
            var metrics = new EpochMetrics(epoch, lossSum / stepsPerEpoch, testLoss, testAccuracy, epochClock.Elapsed.TotalSeconds,
                (double)correct / ((long)stepsPerEpoch * trial.BatchSize));
            epochs.Add(metrics);
            board?.Epoch(metrics, optimizer.ParamGroups.First().LearningRate);
            // A test loss that is not finite (BN over one example: NaN statistics) is a divergence, however the training
            // loss looked: a NaN metric is never "converged".
            if (!double.IsFinite(testLoss) || !double.IsFinite(testAccuracy))
                return Result(TrialStatus.Diverged) with { DivergedAtEpoch = epoch, DivergenceLoss = testLoss };
            int every = trial.Training.CheckpointEvery;
            if (context.Checkpoints is { } checkpoints && every > 0 && (epoch % every == 0 || epoch == trial.Training.Epochs))
                checkpoints.Save(Capture(trial, fingerprint, epochs, step, initialLoss, model, optimizer, permutationRng, augmentationRng,
                    threads: context.Threads));
            progress?.Report(metrics);
        }

        if (context.FinalWeightsPath is { } weightsPath) ExportForPyTorch(model, weightsPath);
        var fit = FinalTrainFit(model, tensors, trial);
        var analysis = trial.Analysis is { } analysisSpec
            ? TrialAnalyzer.Analyze(analysisSpec, trial.Seed, trial.Training.EvaluationBatchSize, model, tensors, cancellation)
            : null;
        return Result(TrialStatus.Completed) with
        {
            Analysis = analysis,
            FinalTrainFit = fit,
            FinalTestAccuracy = Statistics.FinalAccuracy(epochs),
            FinalTestLoss = Statistics.FinalLoss(epochs),
        };
    }

    /// <summary>
    /// Mean cross-entropy and accuracy over a set, without gradients: in eval mode (BN running statistics), or with
    /// <paramref name="batchStatistics"/> BN normalising each batch of <paramref name="batchSize"/> with its own statistics
    /// (train mode; that also moves the running statistics, so callers that need them restore the state).
    /// </summary>
    public static (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, int batchSize,
        bool batchStatistics = false)
    {
        bool wasTraining = model.training;
        model.train(batchStatistics);
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
            model.train(wasTraining);
        }
    }

    /// <summary>
    /// How well the final weights fit the training set, measured like the test set (BN in eval mode, no augmentation) on
    /// a seeded draw of as many training images as there are test images: the same draw for every trial of a sweep (it
    /// depends only on the data and dataset.subsetSeed), and the same standard error as the test accuracy beside it.
    /// </summary>
    public static FitMeasurement FinalTrainFit(nn.Module<Tensor, Tensor> model, TensorData tensors, TrialSpec trial)
    {
        int size = (int)Math.Min(tensors.TestImages.shape[0], tensors.TrainImages.shape[0]);
        var (images, labels) = TrialAnalyzer.EvaluationSubset(tensors, size, trial.Dataset.SubsetSeed);
        using (images)
        using (labels)
        {
            var (loss, accuracy) = Evaluate(model, images, labels, trial.Training.EvaluationBatchSize);
            return new FitMeasurement(size, loss, accuracy);
        }
    }

    /// <summary>The final weights as a PyTorch state dict (`torch.load` reads it), written atomically.</summary>
    public static void ExportForPyTorch(nn.Module model, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temporary = path + ".tmp";
        model.save_py(temporary);
        File.Move(temporary, path, overwrite: true);
    }

    private static TrainingCheckpoint Capture(TrialSpec trial, string fingerprint, List<EpochMetrics> epochs, long step, double? initialLoss,
        nn.Module model, TorchSharp.Modules.OptimizerHelper optimizer, Generator permutationRng, Generator augmentationRng, PartialEpoch? partial = null,
        int? threads = null)
    {
        using var modelBytes = new MemoryStream();
        using (var writer = new BinaryWriter(modelBytes, System.Text.Encoding.UTF8, leaveOpen: true)) model.save(writer);
        using var optimizerBytes = new MemoryStream();
        using (var writer = new BinaryWriter(optimizerBytes, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(writer);
        return new TrainingCheckpoint
        {
            TrialId = trial.TrialId, TrialFingerprint = fingerprint, EpochsDone = epochs.Count, Step = step, InitialLoss = initialLoss,
            Model = modelBytes.ToArray(), Optimizer = optimizerBytes.ToArray(),
            PermutationRng = partial?.PermutationRngBeforeEpoch ?? GeneratorState(permutationRng), AugmentationRng = GeneratorState(augmentationRng),
            PartialEpochSteps = partial?.Steps ?? 0, PartialEpochLossSum = partial?.LossSum ?? 0, PartialEpochCorrect = partial?.Correct ?? 0,
            Threads = threads,
            Epochs = epochs.Select(e => new EpochRecord
            {
                Epoch = e.Epoch, TrainLoss = e.TrainLoss, TestLoss = e.TestLoss, TestAccuracy = e.TestAccuracy, Seconds = e.Seconds,
                TrainAccuracy = e.TrainAccuracy,
            }).ToList(),
        };
    }

    /// <summary>Where a stopped epoch was: the permutation generator before its draw, the steps taken, their loss sum and correct count.</summary>
    private sealed record PartialEpoch(byte[] PermutationRngBeforeEpoch, int Steps, double LossSum, long Correct);

    /// <summary>TorchSharp's Adam or SGD, with a step that keeps its coefficients alive through the native calls (<see cref="ScalarSafe.Adam"/>).</summary>
    internal static TorchSharp.Modules.OptimizerHelper CreateOptimizer(OrleansSweep.Core.Specs.TrainingSpec training, nn.Module model, double learningRate) =>
        training.Optimizer == "adam"
            // Kingma & Ba's (and Keras', which Keskar et al. used) defaults; TorchSharp's own beta2 default is 0.99.
            ? new ScalarSafe.Adam(model.parameters(), learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: training.WeightDecay)
            : new ScalarSafe.SGD(model.parameters(), learningRate, training.Momentum, weight_decay: training.WeightDecay);

    private static void Restore(TrainingCheckpoint checkpoint, nn.Module model, TorchSharp.Modules.OptimizerHelper optimizer, Generator permutationRng, Generator augmentationRng)
    {
        using (var reader = new BinaryReader(new MemoryStream(checkpoint.Model))) model.load(reader);
        using (var reader = new BinaryReader(new MemoryStream(checkpoint.Optimizer))) optimizer.load_state_dict(reader);
        using (var state = tensor(checkpoint.PermutationRng, ScalarType.Byte)) permutationRng.set_state(state);
        using (var state = tensor(checkpoint.AugmentationRng, ScalarType.Byte)) augmentationRng.set_state(state);
    }

    private static byte[] GeneratorState(Generator generator)
    {
        using var state = generator.get_state();
        return state.data<byte>().ToArray();
    }
}
