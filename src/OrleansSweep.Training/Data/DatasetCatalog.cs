using System.Collections.Concurrent;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Training.Data;

/// <summary>Train and test sets of one dataset spec.</summary>
public sealed record DatasetPair(ImageSet Train, ImageSet Test);

/// <summary>Finds and loads the datasets a spec names; caches what it read, since every trial of a sweep shares it.</summary>
public static class DatasetCatalog
{
    public const string FashionMnistSystemDirectory = "/usr/share/datasets/fashion-mnist";
    public static readonly string[] FashionMnistFiles =
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

    private static readonly ConcurrentDictionary<string, Lazy<DatasetPair>> Cache = new();

    /// <summary>Throws a <see cref="DatasetException"/> saying how to get the data when the files are not there.</summary>
    public static void EnsureAvailable(DatasetSpec spec) => _ = ResolveFiles(spec);

    public static DatasetPair Load(DatasetSpec spec)
    {
        var files = ResolveFiles(spec);
        string key = $"{string.Join('|', files)}|{spec.TrainSubset}|{spec.TestSubset}|{spec.SubsetSeed}";
        var lazy = Cache.GetOrAdd(key, _ => new Lazy<DatasetPair>(() => LoadUncached(files, spec)));
        try { return lazy.Value; }
        catch { Cache.TryRemove(key, out _); throw; }
    }

    private static DatasetPair LoadUncached(string[] files, DatasetSpec spec)
    {
        var train = IdxReader.ReadImageSet(files[0], files[1]);
        var test = IdxReader.ReadImageSet(files[2], files[3]);
        if (train.Height != test.Height || train.Width != test.Width)
            throw new DatasetException($"{files[2]}: test images are {test.Height}x{test.Width}, training images {train.Height}x{train.Width}.");
        if (spec.TrainSubset is int n) train = train.StratifiedSubset(n, spec.SubsetSeed);
        if (spec.TestSubset is int k) test = test.StratifiedSubset(k, spec.SubsetSeed);
        return new DatasetPair(train, test);
    }

    /// <summary>The four IDX files of the spec's dataset. Raw (.gz-less) files are accepted where the .gz is absent.</summary>
    private static string[] ResolveFiles(DatasetSpec spec)
    {
        if (spec.Name != "fashion-mnist")
            throw new DatasetException($"dataset.name: unknown dataset '{spec.Name}' (expected fashion-mnist).");
        string directory = spec.Path ?? FashionMnistSystemDirectory;
        var resolved = new string[FashionMnistFiles.Length];
        var missing = new List<string>();
        for (int i = 0; i < FashionMnistFiles.Length; i++)
        {
            string gz = Path.Combine(directory, FashionMnistFiles[i]);
            string raw = gz[..^3];
            resolved[i] = File.Exists(gz) ? gz : File.Exists(raw) ? raw : "";
            if (resolved[i].Length == 0) missing.Add(FashionMnistFiles[i]);
        }
        if (missing.Count == 0) return resolved;
        string how = spec.Path is null
            ? "Install it with `sudo apt-get install dataset-fashion-mnist`, or set dataset.path in the spec to a directory holding these files."
            : "Point dataset.path at a directory holding these files (gzip-compressed or raw IDX), or remove dataset.path and " +
              "install Debian's package with `sudo apt-get install dataset-fashion-mnist`.";
        throw new DatasetException($"Fashion-MNIST not found in {directory}: missing {string.Join(", ", missing)}. {how}");
    }
}
