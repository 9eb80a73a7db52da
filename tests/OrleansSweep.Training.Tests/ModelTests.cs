using OrleansSweep.Core.Specs;
using OrleansSweep.Training.Models;
using OrleansSweep.Training.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Tests;

public class ModelTests
{
    public ModelTests() => TorchNativeLoader.EnsureLoaded();

    private static long Parameters(nn.Module module) => module.parameters().Sum(p => p.numel());

    /// <summary>Conv weights per block: 3x3 convs of 16/32/64 channels; option-A shortcuts have no parameters.</summary>
    private static long ExpectedParameters(int n, bool norm, int inputChannels)
    {
        long Conv(long i, long o) => 9 * i * o + (norm ? 0 : o);
        long Norm(long c) => norm ? 2 * c : 0;
        long total = Conv(inputChannels, 16) + Norm(16);
        int[] widths = [16, 32, 64];
        long previous = 16;
        foreach (int w in widths)
            for (int b = 0; b < n; b++)
            {
                total += Conv(b == 0 ? previous : w, w) + Norm(w) + Conv(w, w) + Norm(w);
                previous = w;
            }
        return total + 64 * 10 + 10;
    }

    [Theory]
    [InlineData(1, "none", 1)]
    [InlineData(1, "batch", 1)]
    [InlineData(3, "batch", 3)]
    [InlineData(5, "ghost:4", 3)]
    public void Parameter_counts_match_the_architecture(int n, string bn, int channels)
    {
        using var model = new CifarResNet(n, BnMode.Parse(bn), channels);
        Assert.Equal(ExpectedParameters(n, bn != "none", channels), Parameters(model));
    }

    [Fact]
    public void ResNet20_has_the_papers_parameter_count()
    {
        using var model = new CifarResNet(3, BnMode.Batch, 3);
        Assert.Equal(0.27, Parameters(model) / 1e6, 2); // He et al. 2015, Table 6: 0.27M
    }

    [Theory]
    [InlineData(1, 28)]
    [InlineData(3, 32)]
    public void Output_is_batch_by_ten(int channels, int size)
    {
        using var model = new CifarResNet(1, BnMode.Batch, channels);
        using var input = randn(4, channels, size, size);
        using var output = model.forward(input);
        Assert.Equal([4L, 10L], output.shape);
    }

    [Fact]
    public void State_dict_keys_are_stable_and_readable()
    {
        using var model = new CifarResNet(1, BnMode.Batch);
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.Contains("stem.weight", keys);
        Assert.Contains("stem_norm.running_mean", keys);
        Assert.Contains("stage2.0.conv1.weight", keys);
        Assert.Contains("stage3.0.norm2.bias", keys);
        Assert.Contains("classifier.weight", keys);
    }

    [Fact]
    public void Ghost_bn_equals_bn_applied_to_each_sub_batch_alone()
    {
        torch.manual_seed(5);
        using var input = randn(8, 3, 5, 5) * 3 + 1;
        using var ghost = new GhostBatchNorm2d(3, ghostSize: 2);
        using var plain = nn.BatchNorm2d(3);
        ghost.train(); plain.train();
        using var output = ghost.forward(input);
        for (int k = 0; k < 4; k++)
        {
            using var expected = plain.forward(input.narrow(0, 2 * k, 2));
            Assert.True(output.narrow(0, 2 * k, 2).allclose(expected, rtol: 1e-5, atol: 1e-6), $"sub-batch {k}");
        }
        // Each sub-batch updated the running statistics in turn, as four BN calls would.
        Assert.True(ghost.state_dict()["running_mean"].allclose(plain.running_mean!, rtol: 1e-5, atol: 1e-6));
        Assert.True(ghost.state_dict()["running_var"].allclose(plain.running_var!, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Ghost_bn_with_the_whole_batch_is_plain_bn_and_eval_uses_running_statistics()
    {
        torch.manual_seed(6);
        using var input = randn(4, 2, 3, 3);
        using var ghost = new GhostBatchNorm2d(2, ghostSize: 4);
        using var plain = nn.BatchNorm2d(2);
        Assert.True(ghost.forward(input).allclose(plain.forward(input), rtol: 1e-5, atol: 1e-6));
        ghost.eval(); plain.eval();
        Assert.True(ghost.forward(input).allclose(plain.forward(input), rtol: 1e-5, atol: 1e-6));
    }
}
