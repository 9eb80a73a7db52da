using System.Buffers.Binary;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.TestSupport;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Native;
using OrleansSweep.Training.Trainer;
using TorchSharp;

namespace OrleansSweep.Training.Tests;

/// <summary>
/// A trial's TensorBoard run, read back as TensorBoard reads it: TFRecord framing (length, masked CRC-32C of the length,
/// the Event protobuf, masked CRC-32C of the data), every CRC checked by a CRC-32C written here, not the writer's.
/// </summary>
public sealed class TensorBoardTests : IDisposable
{
    private readonly TemporaryDirectory _work = new();

    public TensorBoardTests()
    {
        TorchNativeLoader.EnsureLoaded();
        torch.set_num_threads(1);
        SyntheticFashion.Write(_work.Combine("data"), trainCount: 256, testCount: 50);
    }

    public void Dispose() => _work.Dispose();

    [Fact]
    public void The_crc_used_to_check_the_files_is_crc32c()
    {
        // The standard check value of CRC-32C (Castagnoli): RFC 3720 and every implementation.
        Assert.Equal(0xE3069283u, Crc32C("123456789"u8));
    }

    [Fact]
    public void A_trial_writes_its_curves_and_hyperparameters_as_tensorboard_event_files()
    {
        var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("tb", _work.Combine("data"), [16], ["2^-6"], ["none"], epochs: 2));
        var trial = GridExpander.Expand(spec).Single();
        string run = _work.Combine("tensorboard", trial.TrialId);

        var result = TrialTrainer.Train(trial, DatasetCatalog.Load(trial.Dataset), new TrainingContext(torch.CPU, TensorBoardRun: run));

        Assert.Equal(TrialStatus.Completed, result.Status);
        var events = Directory.GetFiles(run, "events.out.tfevents.*").SelectMany(ReadEvents).ToList();
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        var scalars = events.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Select(v => (e.Step, v.Tag, v.SimpleValue))).ToList();

        float[] Series(string tag) => [.. scalars.Where(s => s.Tag == tag).OrderBy(s => s.Step).Select(s => s.SimpleValue)];
        Assert.Equal(result.Epochs.Select(e => (float)e.TestAccuracy), Series("epoch/test_accuracy"));
        Assert.Equal(result.Epochs.Select(e => (float)e.TestLoss), Series("epoch/test_loss"));
        Assert.Equal(result.Epochs.Select(e => (float)e.TrainLoss), Series("epoch/train_loss"));
        Assert.Equal(result.Epochs.Select(e => (float)e.TrainAccuracy!.Value), Series("epoch/train_accuracy"));
        Assert.Equal([1L, 2L], scalars.Where(s => s.Tag == "epoch/test_accuracy").Select(s => s.Step).Order());
        Assert.All(result.Epochs, e => Assert.InRange(e.TrainAccuracy!.Value, 0.0, 1.0));

        // 256 images at m = 16: 16 steps an epoch, 32 in all; a point every 10 steps.
        Assert.Equal([10L, 20L, 30L], scalars.Where(s => s.Tag == "step/train_loss").Select(s => s.Step).Order());
        Assert.All(Series("step/learning_rate"), lr => Assert.Equal((float)trial.LearningRate, lr));
        Assert.All(Series("step/train_loss"), loss => Assert.True(float.IsFinite(loss) && loss > 0));

        var hparams = Assert.Single(events, e => e.Summary?.Value.Any(v => v.Tag.StartsWith("hparams", StringComparison.Ordinal)) == true);
        string text = hparams.Summary.Value[0].Tensor.StringVal[0].ToStringUtf8();
        Assert.Contains($"| trial | {trial.TrialId} |", text);
        Assert.Contains("| batch size m | 16 |", text);
        Assert.Contains("| base LR eta~ | 2^-6 |", text);
    }

    [Fact]
    public void A_diverging_trial_writes_the_step_it_diverged_at()
    {
        var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("tb", _work.Combine("data"), [16], ["2^4"], ["none"], epochs: 2));
        var trial = GridExpander.Expand(spec).Single();
        string run = _work.Combine("diverged");

        var result = TrialTrainer.Train(trial, DatasetCatalog.Load(trial.Dataset), new TrainingContext(torch.CPU, TensorBoardRun: run));

        Assert.Equal(TrialStatus.Diverged, result.Status);
        var losses = Directory.GetFiles(run, "events.out.tfevents.*").SelectMany(ReadEvents)
            .Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Where(v => v.Tag == "step/train_loss").Select(v => (e.Step, v.SimpleValue)))
            .OrderBy(p => p.Step).ToList();
        var last = losses[^1];
        Assert.Equal((float)result.DivergenceLoss!.Value, last.SimpleValue);
    }

    /// <summary>The events of one file; every record's framing and both CRCs checked.</summary>
    private static IEnumerable<Tensorboard.Event> ReadEvents(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var events = new List<Tensorboard.Event>();
        int offset = 0;
        while (offset < bytes.Length)
        {
            Assert.True(bytes.Length - offset >= 12, $"{path}: a record header is cut at byte {offset}");
            var header = bytes.AsSpan(offset, 8);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            Assert.Equal(Masked(Crc32C(header)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 8, 4)));
            Assert.True((ulong)(bytes.Length - offset - 16) >= length, $"{path}: a record is cut at byte {offset}");
            var data = bytes.AsSpan(offset + 12, (int)length);
            Assert.Equal(Masked(Crc32C(data)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 12 + (int)length, 4)));
            events.Add(Tensorboard.Event.Parser.ParseFrom(data.ToArray()));
            offset += 16 + (int)length;
        }
        return events;
    }

    /// <summary>TFRecord's mask: rotate right by 15 bits and add a constant (so a CRC of CRCs is not trivially zero).</summary>
    private static uint Masked(uint crc) => ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;

    /// <summary>CRC-32C, bit by bit (reflected polynomial 0x82F63B78).</summary>
    private static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }
}
