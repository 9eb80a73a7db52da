using OrleansSweep.Training.Trainer.ScalarSafe;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Data;

/// <summary>
/// The standard CIFAR augmentation (He et al.): zero-pad by 4, take a random crop of the original size, flip
/// horizontally with probability 1/2. Whole batch at once (two gathers and a select), randomness from the trial's generator.
/// </summary>
public static class Augmentation
{
    public const int Padding = 4;

    public static Tensor PadCropFlip(Tensor batch, Generator generator)
    {
        using var scope = NewDisposeScope();
        long n = batch.shape[0], c = batch.shape[1], h = batch.shape[2], w = batch.shape[3];
        var device = batch.device;
        var padded = nn.functional.pad(batch, [Padding, Padding, Padding, Padding]);
        var top = randint(0, 2 * Padding + 1, [n], generator: generator).to(device);
        var left = randint(0, 2 * Padding + 1, [n], generator: generator).to(device);
        var flip = randint(0, 2, [n], generator: generator).to(device).to(ScalarType.Bool);

        // Explicit Scalars: arange(h) and Tensor + Tensor would convert 0, h and 1 implicitly (docs/design.md §4.2).
        using var height = h.ToScalar();
        using var width = w.ToScalar();
        var rows = top.unsqueeze(1).add(arange(Scalars.Zero, height, Scalars.One, device: device), Scalars.One).view(n, 1, h, 1).expand(n, c, h, w + 2 * Padding);
        var cropped = padded.gather(2, rows);
        var cols = left.unsqueeze(1).add(arange(Scalars.Zero, width, Scalars.One, device: device), Scalars.One).view(n, 1, 1, w).expand(n, c, h, w);
        cropped = cropped.gather(3, cols);
        return where(flip.view(n, 1, 1, 1), cropped.flip(3), cropped).MoveToOuterDisposeScope();
    }
}
