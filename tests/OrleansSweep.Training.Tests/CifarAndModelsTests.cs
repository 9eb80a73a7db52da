using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;
using OrleansSweep.Training.Data;
using OrleansSweep.Training.Models;
using OrleansSweep.Training.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Tests;

public sealed class CifarAndModelsTests : IDisposable
{
    private readonly TemporaryDirectory _dir = new("orleans-sweep-cifar");

    public CifarAndModelsTests() => TorchNativeLoader.EnsureLoaded();

    public void Dispose() => _dir.Dispose();

    private static byte[] Records(int count, Func<int, byte> label)
    {
        var bytes = new byte[count * Cifar10Reader.RecordLength];
        for (int r = 0; r < count; r++)
        {
            bytes[r * Cifar10Reader.RecordLength] = label(r);
            for (int p = 1; p < Cifar10Reader.RecordLength; p++) bytes[r * Cifar10Reader.RecordLength + p] = (byte)((r + p) % 251);
        }
        return bytes;
    }

    private void WriteCifar(int perFile = 6, int test = 4)
    {
        foreach (string file in Cifar10Reader.TrainFiles) File.WriteAllBytes(_dir.Combine(file), Records(perFile, r => (byte)(r % 10)));
        File.WriteAllBytes(_dir.Combine(Cifar10Reader.TestFile), Records(test, r => (byte)(9 - r % 10)));
    }

    [Fact]
    public void Reads_generated_cifar_binary_files()
    {
        WriteCifar();
        var data = DatasetCatalog.Load(new DatasetSpec { Name = "cifar10", Path = _dir.Path });
        Assert.Equal((30, 4, 3, 32, 32), (data.Train.Count, data.Test.Count, data.Train.Channels, data.Train.Height, data.Train.Width));
        Assert.Equal(new byte[] { 9, 8, 7, 6 }, data.Test.Labels);
        // Channel-planar layout is kept: the second record's first red pixel is byte 1 of its record.
        Assert.Equal((byte)2, data.Train.Pixels[3072]);
    }

    [Fact]
    public void A_file_whose_length_is_not_whole_records_is_named()
    {
        WriteCifar();
        File.WriteAllBytes(_dir.Combine("data_batch_3.bin"), Records(2, _ => 1)[..^7]);
        var error = Assert.Throws<DatasetException>(() => DatasetCatalog.Load(new DatasetSpec { Name = "cifar10", Path = _dir.Path, TrainSubset = 7 }));
        Assert.StartsWith($"{_dir.Combine("data_batch_3.bin")}: wrong record size: 6139 bytes is not a whole number of 3073-byte records", error.Message);
    }

    [Fact]
    public void A_bad_label_is_named()
    {
        WriteCifar();
        File.WriteAllBytes(_dir.Combine(Cifar10Reader.TestFile), Records(3, r => r == 2 ? (byte)200 : (byte)1));
        var error = Assert.Throws<DatasetException>(() => DatasetCatalog.Load(new DatasetSpec { Name = "cifar10", Path = _dir.Path, TestSubset = 3 }));
        Assert.Contains("record 2 has label 200 (expected 0-9)", error.Message);
    }

    [Fact]
    public void Missing_cifar_files_are_listed()
    {
        var error = Assert.Throws<DatasetException>(() => DatasetCatalog.EnsureAvailable(new DatasetSpec { Name = "cifar10", Path = _dir.Path }));
        Assert.Contains("CIFAR-10 not found", error.Message);
        Assert.Contains("data_batch_1.bin", error.Message);
        Assert.Contains("test_batch.bin", error.Message);
    }

    [Theory]
    [InlineData("none", 1, 28)]
    [InlineData("batch", 3, 32)]
    [InlineData("ghost:4", 3, 32)]
    public void AlexNet_small_has_the_papers_layers_and_outputs_ten_logits(string bn, int channels, int size)
    {
        using var model = new AlexNetSmall(BnMode.Parse(bn), channels, size, size);
        bool norm = bn != "none";
        int spatial = size == 28 ? 2 : 3; // three 3x3/2 max-pools: 28 -> 13 -> 6 -> 2, 32 -> 15 -> 7 -> 3
        long convs = 25L * channels * 16 + 9L * 16 * 48 + 9L * 48 * 96 + 9L * 96 * 64 + 9L * 64 * 64;
        long convExtras = norm ? 2L * (16 + 48 + 96 + 64 + 64) : 16 + 48 + 96 + 64 + 64;
        long fcs = 64L * spatial * spatial * 256 + 256L * 256 + (norm ? 4L * 256 : 2L * 256) + 256 * 10 + 10;
        Assert.Equal(convs + convExtras + fcs, model.parameters().Sum(p => p.numel()));
        model.train();
        using var output = model.forward(randn(8, channels, size, size));
        Assert.Equal([8L, 10L], output.shape);
    }

    [Theory]
    [InlineData("none", 1, 28)]
    [InlineData("batch", 1, 28)]
    [InlineData("ghost:4", 3, 32)]
    public void Keskar_f1_has_five_hidden_layers_of_512_and_outputs_ten_logits(string bn, int channels, int size)
    {
        using var model = new KeskarF1(BnMode.Parse(bn), channels, size, size);
        bool norm = bn != "none";
        long inputs = (long)channels * size * size;
        // Each hidden layer: weights plus either a bias (no BN) or BN's weight and bias.
        long hidden = inputs * 512 + 4L * 512 * 512 + 5L * (norm ? 2 * 512 : 512);
        Assert.Equal(hidden + 512L * 10 + 10, model.parameters().Sum(p => p.numel()));
        Assert.Equal(norm ? 5 : 0, model.modules().Count(m => m is BatchNorm2d || m is GhostBatchNorm2d));
        model.train();
        using var output = model.forward(randn(8, channels, size, size));
        Assert.Equal([8L, 10L], output.shape);
    }

    [Fact]
    public void Augmentation_crops_a_shifted_window_of_the_padded_image_and_sometimes_flips_it()
    {
        manual_seed(1);
        using var batch = randn(16, 2, 6, 6);
        using var generator = new Generator(7);
        using var augmented = Augmentation.PadCropFlip(batch, generator);
        Assert.Equal(batch.shape, augmented.shape);
        using var padded = nn.functional.pad(batch, [4, 4, 4, 4]);
        int flips = 0;
        for (int n = 0; n < 16; n++)
        {
            bool found = false;
            for (int top = 0; top <= 8 && !found; top++)
            for (int left = 0; left <= 8 && !found; left++)
            {
                using var window = padded[n].narrow(1, top, 6).narrow(2, left, 6);
                if (augmented[n].allclose(window, 0, 0)) found = true;
                else if (augmented[n].allclose(window.flip(2), 0, 0)) { found = true; flips++; }
            }
            Assert.True(found, $"sample {n} is not a crop of its padded image");
        }
        Assert.InRange(flips, 1, 15);
        using var again = Augmentation.PadCropFlip(batch, new Generator(7));
        Assert.True(again.allclose(augmented, 0, 0)); // same generator seed, same augmentation
    }
}
