namespace OrleansSweep.Training.Data;

/// <summary>Images as raw bytes (N x C x H x W, row-major) with their labels: what a loader reads, before tensors.</summary>
public sealed class ImageSet
{
    public ImageSet(byte[] pixels, byte[] labels, int channels, int height, int width, string source)
    {
        if (pixels.LongLength != (long)labels.Length * channels * height * width)
            throw new ArgumentException($"{source}: {pixels.LongLength} pixel bytes do not make {labels.Length} images of {channels}x{height}x{width}.");
        Pixels = pixels; Labels = labels; Channels = channels; Height = height; Width = width; Source = source;
    }

    public byte[] Pixels { get; }
    public byte[] Labels { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public string Source { get; }
    public int Count => Labels.Length;
    public int ImageBytes => Channels * Height * Width;

    /// <summary>
    /// A class-stratified subset of <paramref name="size"/> images drawn with <paramref name="seed"/>: each class gets
    /// an equal share (the first classes one more when it does not divide), topped up from the rest if a class runs short.
    /// Indices keep their original order, so the subset depends only on (data, size, seed).
    /// </summary>
    public ImageSet StratifiedSubset(int size, int seed)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "a subset needs at least one image.");
        if (size >= Count) return this;
        var random = new Random(seed);
        var byClass = Enumerable.Range(0, Count).GroupBy(i => Labels[i]).OrderBy(g => g.Key)
            .Select(g => { var list = g.ToArray(); random.Shuffle(list); return list; }).ToArray();
        int classes = byClass.Length;
        var chosen = new List<int>(size);
        var leftovers = new List<int>();
        for (int c = 0; c < classes; c++)
        {
            int quota = size / classes + (c < size % classes ? 1 : 0);
            chosen.AddRange(byClass[c].Take(quota));
            leftovers.AddRange(byClass[c].Skip(quota));
        }
        if (chosen.Count < size)
        {
            var rest = leftovers.ToArray();
            random.Shuffle(rest);
            chosen.AddRange(rest.Take(size - chosen.Count));
        }
        chosen.Sort();
        return Select(chosen, $"{Source} (subset of {size}, seed {seed})");
    }

    private ImageSet Select(IReadOnlyList<int> indices, string source)
    {
        var pixels = new byte[(long)indices.Count * ImageBytes];
        var labels = new byte[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            Array.Copy(Pixels, (long)indices[k] * ImageBytes, pixels, (long)k * ImageBytes, ImageBytes);
            labels[k] = Labels[indices[k]];
        }
        return new ImageSet(pixels, labels, Channels, Height, Width, source);
    }
}

/// <summary>A dataset file that is missing, corrupt or inconsistent; the message names the file and the problem.</summary>
public sealed class DatasetException(string message) : Core.UserErrorException(message);
