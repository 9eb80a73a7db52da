using System.Collections.Concurrent;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Training.Data;

/// <summary>Train and test sets of one dataset spec.</summary>
public sealed record DatasetPair(ImageSet Train, ImageSet Test);

/// <summary>Finds and loads the datasets a spec names; caches what it read, since every trial of a sweep shares it.</summary>
public static class DatasetCatalog
{
    public const string FashionMnistSystemDirectory = "/usr/share/datasets/fashion-mnist";
    public static readonly string[] IdxFiles =
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

    private static readonly ConcurrentDictionary<string, Lazy<DatasetPair>> Cache = new();

    /// <summary>Throws a <see cref="DatasetException"/> saying how to get the data when the files are not there.</summary>
    public static void EnsureAvailable(DatasetSpec spec) => _ = ResolveFiles(spec);

    /// <summary>
    /// Before a sweep starts: reads and checks the data as its trials will (format, truncation, counts; the
    /// <see cref="DatasetException"/> names the file) and that every batch size fits the training set. Loaded data
    /// stays cached for the trials of this process.
    /// </summary>
    public static DatasetPair Preflight(SweepSpec sweep)
    {
        var data = Load(sweep.Dataset);
        int largest = sweep.Grid.BatchSizes.Max();
        if (largest > data.Train.Count)
            throw new DatasetException($"grid.batchSizes: batch size {largest} is larger than the training set ({data.Train.Count} images" +
                                       (sweep.Dataset.TrainSubset is null ? ")." : ", dataset.trainSubset)."));
        return data;
    }

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
        var (train, test) = spec.Name == "cifar10"
            ? (Cifar10Reader.Read(files[..^1]), Cifar10Reader.Read([files[^1]]))
            : (IdxReader.ReadImageSet(files[0], files[1]), IdxReader.ReadImageSet(files[2], files[3]));
        if (train.Height != test.Height || train.Width != test.Width)
            throw new DatasetException($"{files[2]}: test images are {test.Height}x{test.Width}, training images {train.Height}x{train.Width}.");
        // A subset larger than the set would silently be the whole set: say so instead.
        if (spec.TrainSubset is int n && n > train.Count)
            throw new DatasetException($"dataset.trainSubset: {n} is larger than the training set ({train.Count} images in {files[0]}).");
        if (spec.TestSubset is int k && k > test.Count)
            throw new DatasetException($"dataset.testSubset: {k} is larger than the test set ({test.Count} images in {files[^1]}).");
        if (spec.TrainSubset is int trainSubset) train = train.StratifiedSubset(trainSubset, spec.SubsetSeed);
        if (spec.TestSubset is int testSubset) test = test.StratifiedSubset(testSubset, spec.SubsetSeed);
        return new DatasetPair(train, test);
    }

    /// <summary>The files of the spec's dataset: for IDX sets (train images, train labels, test images, test labels).</summary>
    private static string[] ResolveFiles(DatasetSpec spec) => spec.Name switch
    {
        "fashion-mnist" => ResolveIdx(spec, "Fashion-MNIST", FashionMnistSystemDirectory),
        "mnist" => ResolveIdx(spec, "MNIST", null),
        "cifar10" => ResolveCifar(spec),
        _ => throw new DatasetException($"dataset.name: unknown dataset '{spec.Name}' (expected fashion-mnist, mnist or cifar10)."),
    };

    private static string[] ResolveIdx(DatasetSpec spec, string title, string? systemDirectory)
    {
        string directory = spec.Path ?? systemDirectory
            ?? throw new DatasetException($"dataset.path: required for {spec.Name} (a directory holding {string.Join(", ", IdxFiles)}).");
        var resolved = new string[IdxFiles.Length];
        var missing = new List<string>();
        for (int i = 0; i < IdxFiles.Length; i++)
        {
            string gz = Path.Combine(directory, IdxFiles[i]);
            string raw = gz[..^3];
            resolved[i] = File.Exists(gz) ? gz : File.Exists(raw) ? raw : "";
            if (resolved[i].Length == 0) missing.Add(IdxFiles[i]);
        }
        if (missing.Count == 0) return resolved;
        string how = spec.Path is null
            ? "Install it with `sudo apt-get install dataset-fashion-mnist`, or set dataset.path in the spec to a directory holding these files."
            : systemDirectory is not null
                ? "Point dataset.path at a directory holding these files (gzip-compressed or raw IDX), or remove dataset.path and " +
                  "install Debian's package with `sudo apt-get install dataset-fashion-mnist`."
                : "Point dataset.path at a directory holding these files (gzip-compressed or raw IDX).";
        throw new DatasetException($"{title} not found in {directory}: missing {string.Join(", ", missing)}. {how}");
    }

    private static string[] ResolveCifar(DatasetSpec spec)
    {
        string directory = spec.Path
            ?? throw new DatasetException("dataset.path: required for cifar10 (the directory of the binary version: data_batch_1..5.bin, test_batch.bin).");
        var files = Cifar10Reader.TrainFiles.Append(Cifar10Reader.TestFile).Select(f => Path.Combine(directory, f)).ToArray();
        var missing = files.Where(f => !File.Exists(f)).Select(Path.GetFileName).ToList();
        if (missing.Count > 0)
            throw new DatasetException(
                $"CIFAR-10 not found in {directory}: missing {string.Join(", ", missing)}. Point dataset.path at the extracted " +
                "binary version (cifar-10-batches-bin: data_batch_1..5.bin and test_batch.bin).");
        return files;
    }
}
