using System.IO.Compression;
using OrleansSweep.Cli;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// The bad-input catalogue, end to end through the command line: each case is what a user might really hand the
/// product. Every one must end with one message naming the field or file and what was expected, a non-zero exit code,
/// no stack trace, and nothing half-written (no study directory appears).
/// </summary>
public sealed class BadInputCatalogueTests : IDisposable
{
    private readonly TemporaryDirectory _work = new("orleans-sweep-bad-input");
    private readonly StringWriter _output = new();

    public BadInputCatalogueTests() => SyntheticFashion.Write(_work.Combine("data"), trainCount: 64, testCount: 10);

    public void Dispose() => _work.Dispose();

    private string Data => _work.Combine("data");

    /// <summary>A case: what to break (given the work directory), the command to run, and what the message must say.</summary>
    public sealed record Case(string Name, Func<BadInputCatalogueTests, string[]> Arrange, string Expected, int Exit = ExitCodes.UserError)
    {
        public override string ToString() => Name;
    }

    private string Spec(string json)
    {
        string path = _work.Combine($"spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private string ValidSpec(Func<string, string>? edit = null, int[]? batchSizes = null, string? data = null) =>
        Spec((edit ?? (s => s))(SyntheticFashion.SpecJson("bad", data ?? Data, batchSizes: batchSizes ?? [16], epochs: 1)));

    private string[] Run(string spec) => ["run", spec, "--study", StudyPath, "--threads", "1"];

    private string StudyPath => _work.Combine("study");

    /// <summary>A copy of the generated dataset with one file replaced by <paramref name="bytes"/> (gzip-compressed like the others).</summary>
    private string DataWith(string file, byte[] bytes)
    {
        string copy = _work.Combine($"data-{Guid.NewGuid():N}");
        Directory.CreateDirectory(copy);
        foreach (string f in Directory.GetFiles(Data)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        File.WriteAllBytes(Path.Combine(copy, file), SyntheticFashion.Encode(bytes, compress: true));
        return copy;
    }

    private byte[] Decompressed(string file)
    {
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(Data, file)), CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gzip.CopyTo(buffer);
        return buffer.ToArray();
    }

    public static TheoryData<Case> Cases => new()
    {
        new("malformed JSON", t => t.Run(t.Spec("{ \"name\": \"bad\", ")), "malformed JSON (line 1)"),
        new("unknown field", t => t.Run(t.ValidSpec(s => s.Replace("\"epochs\": 1", "\"epochs\": 1, \"epoch\": 2"))), "unknown field 'training.epoch'"),
        new("missing field", t => t.Run(t.ValidSpec(s => s.Replace("\"model\": { \"architecture\": \"resnet8\" },", ""))), "model"),
        new("zero batch size", t => t.Run(t.ValidSpec(batchSizes: [0])), "grid.batchSizes: 0"),
        new("negative batch size", t => t.Run(t.ValidSpec(batchSizes: [-8])), "grid.batchSizes: -8"),
        new("batch larger than the dataset", t => t.Run(t.ValidSpec(batchSizes: [128])), "grid.batchSizes: batch size 128 is larger than the training set (64 images)"),
        new("zero learning rate", t => t.Run(t.ValidSpec(s => s.Replace("\"2^-6\"", "0"))), "grid.baseLearningRates"),
        new("negative learning rate", t => t.Run(t.ValidSpec(s => s.Replace("\"2^-6\"", "-0.1"))), "grid.baseLearningRates"),
        new("NaN learning rate", t => t.Run(t.ValidSpec(s => s.Replace("\"2^-6\"", "\"NaN\""))), "grid.baseLearningRates"),
        new("infinite learning rate", t => t.Run(t.ValidSpec(s => s.Replace("\"2^-6\"", "\"Infinity\""))), "grid.baseLearningRates"),
        new("unknown model", t => t.Run(t.ValidSpec(s => s.Replace("resnet8", "resnet9"))), "model.architecture: unknown model 'resnet9'"),
        new("unknown BN mode", t => t.Run(t.ValidSpec(s => s.Replace("\"none\"", "\"layer\""))), "grid.bnModes: unknown BN mode 'layer'"),
        new("ghost BN size not dividing the batch", t => t.Run(t.ValidSpec(s => s.Replace("\"none\"", "\"ghost:6\""))), "ghost BN size 6 does not divide batch size 16"),
        new("empty grid", t => t.Run(t.ValidSpec(s => s.Replace("\"batchSizes\": [16]", "\"batchSizes\": []"))), "grid.batchSizes"),
        new("zero epochs", t => t.Run(t.ValidSpec(s => s.Replace("\"epochs\": 1", "\"epochs\": 0"))), "training.epochs: 0"),
        new("unknown dataset", t => t.Run(t.ValidSpec(s => s.Replace("\"fashion-mnist\"", "\"imagenet\""))), "dataset.name: unknown dataset 'imagenet'"),
        new("dataset path missing", t => t.Run(t.ValidSpec(data: "/nonexistent/fashion")), "/nonexistent/fashion"),
        new("spec file missing", t => t.Run("/nonexistent/spec.json"), "/nonexistent/spec.json: the spec file does not exist"),
        new("truncated IDX file", t => t.Run(t.ValidSpec(data: t.DataWith("train-images-idx3-ubyte.gz", t.Decompressed("train-images-idx3-ubyte.gz")[..1000]))),
            "train-images-idx3-ubyte.gz"),
        new("wrong IDX magic", t =>
        {
            byte[] bytes = t.Decompressed("t10k-labels-idx1-ubyte.gz");
            bytes[2] = 0x0D; // data type "float" where labels are unsigned bytes
            return t.Run(t.ValidSpec(data: t.DataWith("t10k-labels-idx1-ubyte.gz", bytes)));
        }, "t10k-labels-idx1-ubyte.gz"),
        new("label and image counts differ", t =>
        {
            byte[] labels = t.Decompressed("train-labels-idx1-ubyte.gz");
            byte[] fewer = [.. labels[..4], 0, 0, 0, 32, .. labels[8..(8 + 32)]];
            return t.Run(t.ValidSpec(data: t.DataWith("train-labels-idx1-ubyte.gz", fewer)));
        }, "train-labels-idx1-ubyte.gz"),
        new("CIFAR file whose length is not a multiple of 3073", t =>
        {
            string cifar = t._work.Combine("cifar");
            Directory.CreateDirectory(cifar);
            foreach (string f in (string[])["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"])
                File.WriteAllBytes(Path.Combine(cifar, f), new byte[3073 * 2]);
            File.WriteAllBytes(Path.Combine(cifar, "data_batch_3.bin"), new byte[3073 * 2 + 5]);
            return t.Run(t.ValidSpec(s => s.Replace("\"fashion-mnist\"", "\"cifar10\"").Replace("[16]", "[2]"), data: cifar));
        }, "data_batch_3.bin"),
        new("study directory not writable", t => ["run", t.ValidSpec(), "--study", "/proc/orleans-sweep-study", "--threads", "1"], "/proc/orleans-sweep-study"),
        new("study directory holding another spec", t =>
        {
            Directory.CreateDirectory(t.StudyPath);
            File.WriteAllText(Path.Combine(t.StudyPath, "spec.json"), SyntheticFashion.SpecJson("bad", t.Data, batchSizes: [32], epochs: 3));
            return t.Run(t.ValidSpec());
        }, "holds a study of a different spec"),
        new("zero slots", t => ["run", t.ValidSpec(), "--study", t.StudyPath, "--slots", "0"], "--slots"),
        new("page port not a port", t => ["run", t.ValidSpec(), "--study", t.StudyPath, "--page-port", "70000"], "--page-port: 70000 (expected a TCP port, 1-65535)."),
        new("metrics port not a port", t => ["run", t.ValidSpec(), "--study", t.StudyPath, "--metrics-port", "-3"], "--metrics-port: -3 is not a port"),
        new("null grid", t => t.Run(t.ValidSpec(s => System.Text.RegularExpressions.Regex.Replace(s, "\"grid\": \\{[^}]*\\}", "\"grid\": null"))),
            "field 'grid' (line"),
        new("name ending in a newline", t => t.Run(t.ValidSpec(s => s.Replace("\"name\": \"bad\"", "\"name\": \"bad\\n\""))), "name"),
        new("a directory given as the spec", t => ["run", t._work.Path, "--study", t.StudyPath], "is a directory (expected a spec file, JSON)."),
        new("training subset larger than the set", t => t.Run(t.ValidSpec(s => s.Replace("\"dataset\": {", "\"dataset\": { \"trainSubset\": 100,"))),
            "dataset.trainSubset: 100 is larger than the training set (64 images"),
        new("slots beyond any machine", t => ["run", t.ValidSpec(), "--study", t.StudyPath, "--slots", "2147483647", "--device", "cpu", "--device", "cpu"],
            "--slots: 2147483647 (expected at most 1024)."),
        new("threads beyond any machine (OpenMP would abort allocating them)", t => ["run", t.ValidSpec(), "--study", t.StudyPath, "--threads", "2147483647"],
            "--threads: 2147483647 (expected at most 1024)."),
        new("unknown device", t => ["run", t.ValidSpec(), "--study", t.StudyPath, "--device", "tpu"],
            "--device: 'tpu' is not a device (expected cpu, cuda, cuda:N or auto)."),
        new("malformed cuda device", t => ["run", t.ValidSpec(), "--study", t.StudyPath, "--device", "cuda:x"], "--device: 'cuda:x' is not a device"),
        new("unknown device for train", t => ["train", t.ValidSpec(), "--device", "tpu"], "--device: 'tpu' is not a device"),
        new("unknown command option", t => ["run", t.ValidSpec(), "--stduy", t.StudyPath], "--stduy"),
        new("Redis unreachable", t => ["submit", t.ValidSpec(), "--redis", "127.0.0.1:1,connectTimeout=500"], "127.0.0.1:1", ExitCodes.Unavailable),
        new("export into a missing directory", t => ["export", t._work.Combine("some-study"), "-o", t._work.Combine("missing", "grids.csv")],
            $"{Path.Combine("missing", "grids.csv")}: its directory"),
        new("export onto a directory", t => ["export", t._work.Combine("some-study"), "-o", t._work.Path], "is a directory (expected a file to write)."),
        new("train --checkpoints naming a file", t => ["train", t.ValidSpec(), "--checkpoints", t.ValidSpec()], "is a file (expected a directory)."),
        new("train --weights into a missing directory", t => ["train", t.ValidSpec(), "--weights", t._work.Combine("missing", "w.pt")], "--weights: "),
        new("the spec after a device is the spec, not a second device", t => ["run", "--device", "cpu", t.ValidSpec(data: t._work.Combine("no-data")),
            "--study", t.StudyPath], "Fashion-MNIST not found in"),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_gets_one_clear_message_a_non_zero_exit_and_leaves_nothing_behind(Case bad)
    {
        string[] args = bad.Arrange(this);
        bool studyExisted = Directory.Exists(StudyPath);
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var errors = new StringWriter();
        int exit = await CliApp.InvokeAsync(args, TestConsole.Create(_output), limit.Token, TestConsole.CreateErrors(errors));

        // Standard error as a redirected one is (not wrapped): exactly one line, and nothing of it on standard output.
        string line = Assert.Single(errors.ToString().TrimEnd('\n').Split('\n'));
        Assert.Equal(bad.Exit, exit);
        Assert.Contains(bad.Expected, line);
        Assert.StartsWith("error: ", line);
        Assert.DoesNotContain("internal error", line);
        Assert.DoesNotContain("error:", _output.ToString());
        Assert.DoesNotContain("   at ", _output.ToString()); // no stack trace
        if (!studyExisted) Assert.False(Directory.Exists(StudyPath), "a study directory was left behind");
        else Assert.Equal(["spec.json"], Directory.GetFileSystemEntries(StudyPath).Select(Path.GetFileName));
    }
}
