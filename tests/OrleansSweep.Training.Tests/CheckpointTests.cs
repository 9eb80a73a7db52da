using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.TestSupport;
using OrleansSweep.Training.Checkpoints;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Native;
using OrleansSweep.Training.Trainer;
using TorchSharp;
using TorchSharp.PyBridge;

namespace OrleansSweep.Training.Tests;

public sealed class CheckpointTests : IDisposable
{
    private readonly TemporaryDirectory _work = new("orleans-sweep-ckpt");
    private readonly TrialSpec _trial;
    private readonly DatasetPair _data;

    public CheckpointTests()
    {
        TorchNativeLoader.EnsureLoaded();
        torch.set_num_threads(1);
        SyntheticFashion.Write(_work.Combine("data"), trainCount: 128, testCount: 40);
        // Momentum, BN, augmentation and a schedule: every piece of state a resume must restore.
        string json = SyntheticFashion.SpecJson("ckpt", _work.Combine("data"), batchSizes: [16], learningRates: ["2^-7"], bnModes: ["batch"], epochs: 3)
            .Replace("\"schedule\": \"constant\"", "\"schedule\": \"step\", \"momentum\": 0.9, \"warmup\": true")
            .Replace("\"path\":", "\"augment\": true, \"path\":");
        _trial = GridExpander.Expand(SweepSpecLoader.Parse(json)).Single();
        _data = DatasetCatalog.Load(_trial.Dataset);
    }

    public void Dispose() => _work.Dispose();

    private CheckpointStore Store(string name) => new(_work.Combine(name), keep: 5);

    private TrialResult Train(CheckpointStore store, int? stopAfterEpoch = null, string? weights = null, TrialSpec? trial = null)
    {
        using var stop = new CancellationTokenSource();
        var progress = new InlineProgress<EpochMetrics>(m => { if (m.Epoch == stopAfterEpoch) stop.Cancel(); });
        return TrialTrainer.Train(trial ?? _trial, _data, new TrainingContext(torch.CPU, store, weights), progress, stop.Token);
    }

    private static void AssertSameRun(TrialResult expected, TrialResult actual)
    {
        Assert.Equal(expected.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy, e.TrainAccuracy)),
            actual.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy, e.TrainAccuracy)));
        Assert.Equal(expected.FinalTestAccuracy, actual.FinalTestAccuracy);
    }

    private static byte[] FinalModel(CheckpointStore store) => CheckpointStore.Read(store.Files().First()).Model;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Resuming_from_any_checkpoint_is_bit_identical_to_an_uninterrupted_run(int interruptedAfter)
    {
        var straight = Store("straight");
        var uninterrupted = Train(straight);
        Assert.Null(uninterrupted.ResumedFromEpoch);

        var broken = Store("broken");
        Assert.Throws<OperationCanceledException>(() => Train(broken, stopAfterEpoch: interruptedAfter));
        var resumed = Train(broken);

        Assert.Equal(interruptedAfter, resumed.ResumedFromEpoch);
        AssertSameRun(uninterrupted, resumed);
        Assert.Equal(FinalModel(straight), FinalModel(broken)); // weights, BN statistics: every bit
    }

    [Fact]
    public void A_checkpoint_of_the_version_before_resumes_bit_identically_and_says_its_threads_were_not_recorded()
    {
        var uninterrupted = Train(Store("straight"));
        var broken = Store("old");
        Assert.Throws<OperationCanceledException>(() => Train(broken, stopAfterEpoch: 1));
        foreach (string file in broken.Files()) CheckpointBeforeThreads.Downgrade(file);
        Assert.Null(CheckpointStore.Read(broken.Files().First()).Threads);

        var resumed = TrialTrainer.Train(_trial, _data, new TrainingContext(torch.CPU, broken, Threads: 1));

        Assert.Equal(1, resumed.ResumedFromEpoch);
        Assert.Equal(uninterrupted.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)), resumed.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)));
        Assert.Null(resumed.Epochs[0].TrainAccuracy); // the old checkpoint's epoch never recorded it
        Assert.Equal(uninterrupted.Epochs.Skip(1).Select(e => e.TrainAccuracy), resumed.Epochs.Skip(1).Select(e => e.TrainAccuracy));
        Assert.Contains(resumed.Warnings, w => w.StartsWith("resumed from a checkpoint that does not record its threads: continued with 1", StringComparison.Ordinal));
        Assert.Equal(1, resumed.Threads);
    }

    [Fact]
    public void An_adam_trial_resumes_bit_identically_its_moment_estimates_and_step_count_included()
    {
        var adam = _trial with { BaseLearningRate = Math.Pow(2, -14), Training = _trial.Training with { Optimizer = "adam", Momentum = 0 } };
        var straight = Store("adam-straight");
        var uninterrupted = Train(straight, trial: adam);
        Assert.Equal(TrialStatus.Completed, uninterrupted.Status);

        var broken = Store("adam-broken");
        Assert.Throws<OperationCanceledException>(() => Train(broken, stopAfterEpoch: 1, trial: adam));
        var resumed = Train(broken, trial: adam);

        Assert.Equal(1, resumed.ResumedFromEpoch);
        AssertSameRun(uninterrupted, resumed);
        Assert.Equal(FinalModel(straight), FinalModel(broken));
    }

    [Fact]
    public void A_trial_stopped_part_way_through_an_epoch_checkpoints_that_step_and_resumes_from_it_bit_identically()
    {
        var straight = Store("straight-partial");
        var uninterrupted = Train(straight);

        // 128 images at batch 16: 8 steps per epoch; stop after step 12, half-way through epoch 2.
        var stopped = Store("stopped-partial");
        using var stop = new CancellationTokenSource();
        var context = new TrainingContext(torch.CPU, stopped, AfterStep: step => { if (step == 12) stop.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => TrialTrainer.Train(_trial, _data, context, cancellation: stop.Token));
        Assert.Equal("epoch-00001.step-000000004.ckpt", Path.GetFileName(stopped.Files().First()));
        var partial = CheckpointStore.Read(stopped.Files().First());
        Assert.Equal((1, 12L, 4), (partial.EpochsDone, partial.Step, partial.PartialEpochSteps));

        long stepsAfterResume = 0;
        var resumed = TrialTrainer.Train(_trial, _data, new TrainingContext(torch.CPU, stopped, AfterStep: _ => stepsAfterResume++));

        Assert.Equal((1, 12L), (resumed.ResumedFromEpoch, resumed.ResumedFromStep));
        Assert.Equal(3 * 8 - 12, stepsAfterResume); // not one step taken twice
        AssertSameRun(uninterrupted, resumed);
        Assert.Equal(FinalModel(straight), FinalModel(stopped));
    }

    [Fact]
    public void A_corrupt_newest_checkpoint_is_reported_set_aside_and_the_previous_one_used()
    {
        var store = Store("corrupt");
        var uninterrupted = Train(Store("reference"));
        Assert.Throws<OperationCanceledException>(() => Train(store, stopAfterEpoch: 2));
        string newest = store.Files().First();
        var bytes = File.ReadAllBytes(newest);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(newest, bytes);

        var resumed = Train(store);

        Assert.Equal(1, resumed.ResumedFromEpoch);
        var warning = Assert.Single(resumed.Warnings);
        Assert.Contains("epoch-00002.ckpt: integrity check failed", warning);
        Assert.True(File.Exists(newest + ".corrupt"));
        AssertSameRun(uninterrupted, resumed);
    }

    [Fact]
    public void A_truncated_checkpoint_is_named()
    {
        var store = Store("truncated");
        Assert.Throws<OperationCanceledException>(() => Train(store, stopAfterEpoch: 1));
        string only = store.Files().Single();
        File.WriteAllBytes(only, File.ReadAllBytes(only)[..100]);

        var error = Assert.Throws<CorruptCheckpointException>(() => CheckpointStore.Read(only));
        Assert.Equal("truncated or not a checkpoint file", error.Message);
        var load = store.LoadLatest(TrialFingerprint.Compute(_trial));
        Assert.Null(load.Checkpoint); // nothing usable: the trial starts afresh, and says why
        Assert.Contains("truncated", Assert.Single(load.Problems));
    }

    [Fact]
    public void A_checkpoint_of_a_trial_with_other_settings_is_not_used()
    {
        var store = Store("other");
        Assert.Throws<OperationCanceledException>(() => Train(store, stopAfterEpoch: 1));
        var load = store.LoadLatest(TrialFingerprint.Compute(_trial with { Seed = 99 }));
        Assert.Null(load.Checkpoint);
        Assert.Contains("belongs to a trial with other settings", Assert.Single(load.Problems));
    }

    [Fact]
    public void Only_the_newest_checkpoints_are_kept_and_no_temporary_files_remain()
    {
        var store = new CheckpointStore(_work.Combine("keep"), keep: 2);
        TrialTrainer.Train(_trial, _data, new TrainingContext(torch.CPU, store));
        Assert.Equal(["epoch-00003.ckpt", "epoch-00002.ckpt"], store.Files().Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(store.Directory, "*.tmp"));
    }

    [Fact]
    public void Final_weights_are_exported_as_a_pytorch_state_dict()
    {
        string weights = _work.Combine("final.pt");
        Train(Store("export"), weights: weights);
        Assert.True(File.Exists(weights));
        using var fresh = new Models.CifarResNet(1, BnMode.Batch);
        using var before = fresh.state_dict()["stem.weight"].clone();
        fresh.load_py(weights); // PyTorch's pickle format: every key and shape must match
        Assert.False(fresh.state_dict()["stem.weight"].allclose(before));
        Assert.NotEqual(1.0f, fresh.state_dict()["stem_norm.running_var"].mean().item<float>());
    }
}

/// <summary>
/// Checkpoints as the version before this one wrote them: no running training accuracy (keys 12 of the checkpoint, 5 of an
/// epoch) and no threads (key 13). MessagePack's int keys make them arrays that are simply shorter.
/// </summary>
[MessagePack.MessagePackObject]
public sealed class CheckpointBeforeThreads
{
    [MessagePack.Key(0)] public required string TrialId { get; init; }
    [MessagePack.Key(1)] public required string TrialFingerprint { get; init; }
    [MessagePack.Key(2)] public required int EpochsDone { get; init; }
    [MessagePack.Key(3)] public required long Step { get; init; }
    [MessagePack.Key(4)] public double? InitialLoss { get; init; }
    [MessagePack.Key(5)] public required byte[] Model { get; init; }
    [MessagePack.Key(6)] public required byte[] Optimizer { get; init; }
    [MessagePack.Key(7)] public required byte[] PermutationRng { get; init; }
    [MessagePack.Key(8)] public required byte[] AugmentationRng { get; init; }
    [MessagePack.Key(9)] public required List<EpochBeforeTrainAccuracy> Epochs { get; init; }
    [MessagePack.Key(10)] public int PartialEpochSteps { get; init; }
    [MessagePack.Key(11)] public double PartialEpochLossSum { get; init; }

    [MessagePack.MessagePackObject]
    public sealed class EpochBeforeTrainAccuracy
    {
        [MessagePack.Key(0)] public int Epoch { get; init; }
        [MessagePack.Key(1)] public double TrainLoss { get; init; }
        [MessagePack.Key(2)] public double TestLoss { get; init; }
        [MessagePack.Key(3)] public double TestAccuracy { get; init; }
        [MessagePack.Key(4)] public double Seconds { get; init; }
    }

    /// <summary>Rewrites <paramref name="path"/> as the older version would have written the same checkpoint.</summary>
    public static void Downgrade(string path)
    {
        var current = CheckpointStore.Read(path);
        var old = new CheckpointBeforeThreads
        {
            TrialId = current.TrialId, TrialFingerprint = current.TrialFingerprint, EpochsDone = current.EpochsDone, Step = current.Step,
            InitialLoss = current.InitialLoss, Model = current.Model, Optimizer = current.Optimizer, PermutationRng = current.PermutationRng,
            AugmentationRng = current.AugmentationRng, PartialEpochSteps = current.PartialEpochSteps, PartialEpochLossSum = current.PartialEpochLossSum,
            Epochs = [.. current.Epochs.Select(e => new EpochBeforeTrainAccuracy { Epoch = e.Epoch, TrainLoss = e.TrainLoss, TestLoss = e.TestLoss, TestAccuracy = e.TestAccuracy, Seconds = e.Seconds })],
        };
        var options = MessagePack.MessagePackSerializerOptions.Standard;
        byte[] payload = MessagePack.MessagePackSerializer.Serialize(old, options);
        File.WriteAllBytes(path, MessagePack.MessagePackSerializer.Serialize(
            new CheckpointEnvelope { Payload = payload, Sha256 = System.Security.Cryptography.SHA256.HashData(payload) }, options));
    }
}
