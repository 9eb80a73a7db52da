using TorchSharp;
using OrleansSweep.Training.Data;
using static TorchSharp.torch;

namespace OrleansSweep.Training.Trainer;

/// <summary>
/// A dataset as four device tensors, normalised per channel with the training set's mean and standard deviation.
/// The whole set lives in one tensor; batches are index_select-ed by permutation (no per-sample collation).
/// </summary>
public sealed class TensorData : IDisposable
{
    private TensorData(Tensor trainImages, Tensor trainLabels, Tensor testImages, Tensor testLabels)
    {
        TrainImages = trainImages; TrainLabels = trainLabels; TestImages = testImages; TestLabels = testLabels;
    }

    public Tensor TrainImages { get; }
    public Tensor TrainLabels { get; }
    public Tensor TestImages { get; }
    public Tensor TestLabels { get; }

    public static TensorData Create(DatasetPair data, Device device)
    {
        using var scope = NewDisposeScope();
        var train = Images(data.Train);
        var mean = train.mean([0L, 2L, 3L], keepdim: true);
        using var floor = 1e-6.ToScalar();
        var std = train.std([0L, 2L, 3L], keepdim: true).clamp_min(floor);
        var result = new TensorData(
            train.sub(mean).div(std).to(device).MoveToOuterDisposeScope(),
            Labels(data.Train).to(device).MoveToOuterDisposeScope(),
            Images(data.Test).sub(mean).div(std).to(device).MoveToOuterDisposeScope(),
            Labels(data.Test).to(device).MoveToOuterDisposeScope());
        return result;
    }

    private static readonly TorchSharp.Scalar PixelScale = 255f.ToScalar();

    private static Tensor Images(ImageSet set) =>
        tensor(set.Pixels, [set.Count, set.Channels, set.Height, set.Width], ScalarType.Byte).to(ScalarType.Float32).div_(PixelScale);

    private static Tensor Labels(ImageSet set) => tensor(set.Labels, ScalarType.Byte).to(ScalarType.Int64);

    public void Dispose()
    {
        TrainImages.Dispose(); TrainLabels.Dispose(); TestImages.Dispose(); TestLabels.Dispose();
    }
}
