using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.TestSupport;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Native;
using OrleansSweep.Training.Trainer;
using TorchSharp;
using TorchSharp.PyBridge;

namespace OrleansSweep.Training.Tests;

public sealed class TrainerTests : IDisposable
{
    private readonly TemporaryDirectory _data = new();

    public TrainerTests()
    {
        TorchNativeLoader.EnsureLoaded();
        torch.set_num_threads(1);
        SyntheticFashion.Write(_data.Path, trainCount: 512, testCount: 100);
    }

    public void Dispose() => _data.Dispose();

    private TrialSpec Trial(int batch = 16, string lr = "2^-6", string bn = "none", int epochs = 3, string schedule = "constant")
    {
        var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("t", _data.Path, [batch], [lr], [bn], epochs)
            .Replace("\"constant\"", $"\"{schedule}\""));
        return GridExpander.Expand(spec).Single();
    }

    private TrialResult Train(TrialSpec trial, CancellationToken cancellation = default) =>
        TrialTrainer.Train(trial, DatasetCatalog.Load(trial.Dataset), new TrainingContext(torch.CPU), cancellation: cancellation);

    [Fact]
    public void Loss_goes_down_and_accuracy_beats_chance()
    {
        var result = Train(Trial());
        Assert.Equal(TrialStatus.Completed, result.Status);
        Assert.Equal(3, result.Epochs.Count);
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss * 0.8,
            $"train loss {result.Epochs[0].TrainLoss} -> {result.Epochs[^1].TrainLoss}");
        Assert.True(result.FinalTestAccuracy > 0.3, $"accuracy {result.FinalTestAccuracy}");
        Assert.Equal(Statistics.FinalAccuracy(result.Epochs), result.FinalTestAccuracy);
    }

    [Fact]
    public void A_completed_trial_records_how_its_final_weights_fit_a_fixed_draw_of_training_images()
    {
        using var work = new TemporaryDirectory();
        var trial = Trial(bn: "batch", epochs: 2);
        var data = DatasetCatalog.Load(trial.Dataset);
        string weights = work.Combine("final.pt");
        var result = TrialTrainer.Train(trial, data, new TrainingContext(torch.CPU, FinalWeightsPath: weights));

        // As many training images as test images (100 of 512), measured like the test set: the exported final weights,
        // BN in eval mode, on the seeded draw every trial of the sweep shares.
        var fit = result.FinalTrainFit!;
        Assert.Equal(100, fit.Images);
        using var fresh = Models.ModelFactory.Create(trial.Model, trial.ParsedBnMode, seed: 99, data.Train.Channels, data.Train.Height, data.Train.Width);
        fresh.load_py(weights);
        using var tensors = TensorData.Create(data, torch.CPU);
        var (images, labels) = Landscape.TrialAnalyzer.EvaluationSubset(tensors, 100, trial.Dataset.SubsetSeed);
        using (images)
        using (labels)
            Assert.Equal(TrialTrainer.Evaluate(fresh, images, labels, 1000), (fit.Loss, fit.Accuracy));
        Assert.Equal(fit.Accuracy, result.FinalWeightsTrainAccuracy);
        Assert.Equal(result.Epochs[^1].TestAccuracy, result.FinalWeightsTestAccuracy);

        Assert.Null(Train(Trial(lr: "2^4")).FinalTrainFit); // diverged: nothing fits
    }

    [Theory]
    [InlineData("batch")]
    [InlineData("ghost:8")]
    public void Trains_with_batch_norm_modes(string bn)
    {
        var result = Train(Trial(bn: bn, epochs: 2));
        Assert.Equal(TrialStatus.Completed, result.Status);
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss);
    }

    [Fact]
    public void Same_seed_same_threads_gives_bit_identical_results()
    {
        var a = Train(Trial(epochs: 1));
        var b = Train(Trial(epochs: 1));
        Assert.Equal(a.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)), b.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)));
    }

    [Fact]
    public async Task Concurrent_trials_in_one_process_do_not_interfere()
    {
        var first = Trial(epochs: 1);
        var second = Trial(epochs: 1, lr: "2^-7", bn: "batch");
        var alone = (Train(first), Train(second));
        var together = await Task.WhenAll(Task.Run(() => Train(first)), Task.Run(() => Train(second)));
        Assert.Equal(alone.Item1.Epochs.Select(e => e.TrainLoss), together[0].Epochs.Select(e => e.TrainLoss));
        Assert.Equal(alone.Item2.Epochs.Select(e => e.TrainLoss), together[1].Epochs.Select(e => e.TrainLoss));
    }

    /// <summary>
    /// Threads are set per training thread (TrialSetup.Prepare): a trial computing with 2 threads beside one computing with
    /// 1 gets, each, the numbers it gets alone; so a trial's threads (its spec's) decide its numbers, never its neighbours.
    /// </summary>
    [Fact]
    public async Task Concurrent_trials_with_different_threads_each_compute_as_they_do_alone()
    {
        var one = Trial(epochs: 1);
        var two = Trial(epochs: 1, lr: "2^-7");
        TrialResult TrainWith(TrialSpec trial, int threads)
        {
            TrialSetup.Prepare("cpu", threads);
            Assert.Equal(threads, torch.get_num_threads());
            return TrialTrainer.Train(trial, DatasetCatalog.Load(trial.Dataset), new TrainingContext(torch.CPU, Threads: threads));
        }
        TrialResult OnItsOwnThread(TrialSpec trial, int threads)
        {
            TrialResult? result = null;
            var thread = new Thread(() => result = TrainWith(trial, threads));
            thread.Start();
            thread.Join();
            return result!;
        }
        var alone = (OnItsOwnThread(one, 1), OnItsOwnThread(two, 2));
        var together = await Task.WhenAll(Task.Factory.StartNew(() => OnItsOwnThread(one, 1), TaskCreationOptions.LongRunning),
            Task.Factory.StartNew(() => OnItsOwnThread(two, 2), TaskCreationOptions.LongRunning));
        Assert.Equal(alone.Item1.Epochs.Select(e => e.TrainLoss), together[0].Epochs.Select(e => e.TrainLoss));
        Assert.Equal(alone.Item2.Epochs.Select(e => e.TrainLoss), together[1].Epochs.Select(e => e.TrainLoss));
        Assert.Equal((1, 2), (together[0].Threads, together[1].Threads)); // recorded in the result
    }

    [Fact]
    public void Trains_alexnet_small_with_warmup_and_cosine()
    {
        var trial = Trial(epochs: 2, lr: "2^-9", schedule: "cosine") with { Model = new ModelSpec { Architecture = "alexnet-small" } };
        trial = trial with { Training = trial.Training with { Warmup = true, Momentum = 0.9 } };
        var result = Train(trial);
        Assert.Equal(TrialStatus.Completed, result.Status);
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss);
    }

    [Fact]
    public void Trains_keskar_f1_with_adam_and_batch_norm()
    {
        var trial = Trial(epochs: 2, lr: "2^-14", bn: "batch") with { Model = new ModelSpec { Architecture = "keskar-f1" } }; // eta = 16 x 2^-14 = 0.001
        trial = trial with { Training = trial.Training with { Optimizer = "adam" } };
        var result = Train(trial);
        Assert.Equal(TrialStatus.Completed, result.Status);
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss);
    }

    [Fact]
    public void Adam_trains_when_the_spec_names_it_and_is_not_sgd_under_another_name()
    {
        var sgd = Trial(epochs: 2, lr: "2^-14");
        var adam = sgd with { Training = sgd.Training with { Optimizer = "adam" } };
        var sgdResult = Train(sgd);
        var adamResult = Train(adam);
        Assert.Equal(TrialStatus.Completed, adamResult.Status);
        Assert.True(adamResult.Epochs[^1].TrainLoss < adamResult.Epochs[0].TrainLoss);
        // At eta = 0.001 SGD barely moves; Adam's steps are ~eta per weight whatever the gradient's scale.
        Assert.True(adamResult.Epochs[^1].TrainLoss < sgdResult.Epochs[^1].TrainLoss - 0.05,
            $"adam {adamResult.Epochs[^1].TrainLoss} vs sgd {sgdResult.Epochs[^1].TrainLoss}");
    }

    [Fact]
    public void A_huge_learning_rate_diverges_as_a_result_not_an_exception()
    {
        var result = Train(Trial(lr: "2^4"));
        Assert.Equal(TrialStatus.Diverged, result.Status);
        Assert.Equal(1, result.DivergedAtEpoch);
        Assert.Empty(result.Epochs); // caught at the step it happened, not after the epoch's test pass
        Assert.True(!double.IsFinite(result.DivergenceLoss!.Value) || result.DivergenceLoss > 10);
        Assert.Null(result.FinalTestAccuracy);
    }

    [Fact]
    public void Cancellation_stops_at_the_next_step()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => Train(Trial(), cancelled.Token));
    }

    [Fact]
    public void A_batch_larger_than_the_training_set_is_a_clear_error()
    {
        var error = Assert.Throws<DatasetException>(() => Train(Trial(batch: 1024)));
        Assert.Contains("batch size 1024 is larger than the training set (512 images)", error.Message);
    }

    [Fact]
    public void Cpu_device_resolves_to_cpu_and_missing_cuda_falls_back_with_a_reason()
    {
        Assert.Equal(DeviceType.CPU, TorchDevices.Resolve("cpu", out var none).type);
        Assert.Null(none);
        var device = TorchDevices.Resolve("cuda:7", out var reason);
        if (!torch.cuda.is_available() || torch.cuda.device_count() <= 7)
        {
            Assert.Equal(DeviceType.CPU, device.type);
            Assert.Contains("cuda:7", reason);
        }
        Assert.Throws<ArgumentException>(() => TorchDevices.Resolve("tpu", out _));
    }
}
