using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using OrleansSweep.Cli;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// The hostile-input contract, checked on generated cases rather than a list: a valid spec or dataset is mutated
/// (a field deleted, nulled, retyped, renamed, given twice, set to an extreme or non-finite number, a huge string or
/// list; the text cut or a character flipped; an IDX file cut, a byte flipped, a dimension rewritten, the gzip
/// stream damaged) and the command line must answer with exit 0, or exit 2 and one line per problem that names the
/// field or file, never an internal error or a stack trace, and must leave no study directory behind. Seeded: the same
/// cases every run (<see cref="Seed"/>; ORLEANS_SWEEP_FUZZ_SEED=&lt;a CsCheck seed&gt; draws others, "random" a new set
/// each run), bounded for CI; a failure names its case and the seed.
/// </summary>
public sealed class HostileInputPropertyTests : IDisposable
{
    /// <summary>CsCheck's seed of the first case: the same cases in every run, unless the environment asks for others.</summary>
    private const string Seed = "0000000000000";
    private static string? SeedToUse => Environment.GetEnvironmentVariable("ORLEANS_SWEEP_FUZZ_SEED") switch
    {
        "random" => null,
        { Length: > 0 } s => s,
        _ => Seed,
    };

    private readonly TemporaryDirectory _work = new("orleans-sweep-fuzz");
    private readonly string _validSpec;
    private static readonly string[] IdxFiles = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

    public HostileInputPropertyTests()
    {
        SyntheticFashion.Write(_work.Combine("data"), trainCount: 64, testCount: 10);
        _validSpec = JsonNode.Parse(SyntheticFashion.SpecJson("fuzz", _work.Combine("data"), batchSizes: [16, 32], learningRates: ["2^-8", "2^-6"], epochs: 1))!
            .ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    public void Dispose() => _work.Dispose();

    public enum SpecEdit { Delete, Null, Retype, Extreme, Rename, Duplicate, HugeString, HugeList, Truncate, FlipCharacter }

    /// <summary>A spec mutation: which field (an index into every field and list element), what to do, and with what.</summary>
    public sealed record SpecCase(int Field, SpecEdit Edit, int Payload);

    public enum DataEdit { Truncate, FlipByte, Dimension, Garbage, Empty, DamagedGzip }

    public sealed record DataCase(int File, DataEdit Edit, int Position, uint Value);

    private static readonly Gen<SpecCase> SpecCases =
        Gen.Select(Gen.Int[0, 10_000], Gen.Enum<SpecEdit>(), Gen.Int[0, 1_000_000], (f, e, p) => new SpecCase(f, e, p));

    private static readonly Gen<DataCase> DataCases =
        Gen.Select(Gen.Int[0, IdxFiles.Length - 1], Gen.Enum<DataEdit>(), Gen.Int[0, 1_000_000], Gen.UInt, (f, e, p, v) => new DataCase(f, e, p, v));

    /// <summary>
    /// The same cases in every run: CsCheck takes a seed for the first iteration only, so all cases are drawn in that
    /// one iteration (a list), and each is checked in turn; a failure names its case.
    /// </summary>
    private static void ForEachCase<T>(Gen<T> cases, int count, Action<T> check) =>
        cases.List[count].Sample(all =>
        {
            foreach (var c in all) check(c);
        }, seed: SeedToUse, iter: 1, threads: 1, print: all => $"{all.Count} cases");

    [Fact]
    public void Mutated_specs_get_exit_0_or_one_clear_line_per_problem_and_leave_nothing_behind() =>
        ForEachCase(SpecCases, 1_000, c => CheckContract(WriteSpec(Mutate(_validSpec, c)), $"{c} -> {Shorten(Mutate(_validSpec, c))}"));

    [Fact]
    public void Damaged_dataset_files_get_exit_0_or_one_clear_line_naming_the_file() =>
        ForEachCase(DataCases, 200, c =>
        {
            string data = DamagedCopy(c);
            string spec = WriteSpec(SyntheticFashion.SpecJson("fuzz", data, batchSizes: [16], epochs: 1));
            CheckContract(spec, c.ToString(), mustName: Path.Combine(data, IdxFiles[c.File]));
        });

    /// <summary>
    /// A finished study whose state.db has bytes flipped or is cut short: `resume` exits 0 (the damage missed what it
    /// reads), or 2 in one line naming the file, and then leaves every file of the study as it was.
    /// </summary>
    [Fact]
    public void A_damaged_state_file_resumes_or_is_named_in_one_line_and_left_as_it_was()
    {
        string finished = _work.Combine("finished");
        var (exit, output, errors) = Invoke(["run", WriteSpec(SyntheticFashion.SpecJson("fuzz-state", _work.Combine("data"), batchSizes: [16], epochs: 1)),
            "--study", finished, "--threads", "1"]);
        Assert.True(exit == ExitCodes.Ok, errors + output);
        var stateFiles = Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[1, 255], Gen.Bool, (at, mask, cut) => (At: at, Mask: (byte)mask, Cut: cut));
        ForEachCase(stateFiles, 8, c =>
        {
            string study = _work.Combine($"copy-{Guid.NewGuid():N}");
            CopyDirectory(finished, study);
            string state = Path.Combine(study, "state.db");
            byte[] bytes = File.ReadAllBytes(state);
            int at = c.At % bytes.Length;
            File.WriteAllBytes(state, c.Cut ? bytes[..at] : Flip(bytes, at, c.Mask));
            var before = Directory.GetFiles(study, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith("-shm", StringComparison.Ordinal))
                .ToDictionary(f => f, File.ReadAllBytes);
            var (code, _, said) = Invoke(["resume", study, "--threads", "1"]);
            Assert.True(code is ExitCodes.Ok or ExitCodes.UserError, $"{c}: resume exited {code}: {said}");
            if (code == ExitCodes.Ok) return;
            string[] lines = said.TrimEnd('\n').Split('\n');
            Assert.True(lines.Length == 1 && lines[0].StartsWith($"error: {state}", StringComparison.Ordinal), $"{c}: {said}");
            AssertClear(lines[0], c.ToString());
            Assert.All(before, file => Assert.True(file.Value.AsSpan().SequenceEqual(File.ReadAllBytes(file.Key)), $"{c}: {file.Key} changed"));
        });
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(directory.Replace(from, to));
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)))
            File.Copy(file, file.Replace(from, to));
    }

    /// <summary>
    /// `validate --json` and `run` on the spec: exit 0 (validate only: a valid mutation is not trained), or exit 2 with
    /// every problem on a line of its own, naming what is wrong, and no study directory created.
    /// </summary>
    private void CheckContract(string spec, string what, string? mustName = null)
    {
        var (exit, output, errors) = Invoke(["validate", spec, "--json"]);
        Assert.True(exit is ExitCodes.Ok or ExitCodes.UserError, $"{what}: validate exited {exit}: {errors}{output}");
        Assert.True(errors.Length == 0, $"{what}: validate --json wrote to standard error: {errors}");
        using var document = JsonDocument.Parse(output);
        var problems = document.RootElement.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Equal(exit == ExitCodes.Ok, problems.Count == 0);
        foreach (string problem in problems) AssertClear(problem, what);
        if (mustName is not null && problems.Count > 0)
            Assert.True(problems.Any(p => p.Contains(mustName, StringComparison.Ordinal)), $"{what}: no problem names {mustName}: {string.Join(" | ", problems)}");
        if (exit == ExitCodes.Ok) return;

        string study = _work.Combine($"study-{Guid.NewGuid():N}");
        (exit, output, errors) = Invoke(["run", spec, "--study", study, "--threads", "1"]);
        Assert.True(exit == ExitCodes.UserError, $"{what}: run exited {exit} where validate found problems: {errors}{output}");
        // One line, or (several problems) a line saying how many and then one line per problem.
        string[] lines = errors.TrimEnd('\n').Split('\n');
        Assert.StartsWith("error: ", lines[0]);
        Assert.True(lines.Length == 1 || lines[0].EndsWith($"{lines.Length - 1} problems:", StringComparison.Ordinal) && lines.Skip(1).All(l => l.StartsWith("  - ", StringComparison.Ordinal)),
            $"{what}: run's error is {lines.Length} lines not shaped as one per problem: {errors}");
        foreach (string line in lines) AssertClear(line, what);
        Assert.False(Directory.Exists(study), $"{what}: run left a study directory behind");
    }

    private static void AssertClear(string line, string what)
    {
        Assert.False(string.IsNullOrWhiteSpace(line), $"{what}: an empty problem");
        Assert.DoesNotContain('\n', line);
        foreach (string sign in new[] { "internal error", "   at ", "Exception", "System.", "Orleans." })
            Assert.False(line.Contains(sign, StringComparison.Ordinal), $"{what}: '{sign}' in: {line}");
        Assert.True(line.Length <= 1_400, $"{what}: a {line.Length}-character problem (values should be elided)");
    }

    private (int Exit, string Output, string Errors) Invoke(string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = Task.Run(() => CliApp.InvokeAsync(args, TestConsole.Create(output), limit.Token, TestConsole.CreateErrors(errors)));
        Assert.True(run.Wait(TimeSpan.FromSeconds(90)), $"`{string.Join(' ', args)}` did not finish within 90 s");
        return (run.Result, output.ToString(), errors.ToString());
    }

    private string WriteSpec(string text)
    {
        string path = _work.Combine($"spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, text);
        return path;
    }

    private static string Shorten(string text) => text.Length <= 2_000 ? text : $"{text[..1_000]} ... {text[^1_000..]}";

    /// <summary>Raw JSON tokens a JsonNode cannot hold, put in through a placeholder.</summary>
    private static readonly string[] ExtremeTokens =
    [
        "0", "-1", "1e308", "-1e308", "1e999", "-0", "1e-400", "0.5", "1e3", "2147483648", "-2147483649", "9007199254740993",
        "18446744073709551616", "NaN", "Infinity", "-Infinity", "\"NaN\"", "\"Infinity\"", "\"1e999\"", "\"2^-1000000\"", "\"2^1024\"",
    ];

    private static readonly Func<JsonNode?>[] OtherTypes =
    [
        () => JsonValue.Create("text"), () => JsonValue.Create(42), () => JsonValue.Create(true), () => new JsonArray(),
        () => new JsonObject(), () => JsonValue.Create(-7.5), () => new JsonArray(JsonValue.Create("a"), JsonValue.Create(1)),
    ];

    private static readonly string[] HugeStrings = [new string('a', 100_000), "a\nb", "tab\there", "nul\0x", "\u202Eevil", "../../etc/passwd", "", " "];

    /// <summary>The valid spec with one mutation applied (deterministic in the case).</summary>
    public static string Mutate(string valid, SpecCase c)
    {
        var root = JsonNode.Parse(valid)!;
        var fields = new List<(JsonNode Parent, string? Key, int Index)>();
        Collect(root, fields);
        var (parent, key, index) = fields[c.Field % fields.Count];
        string placeholder = "__hostile_placeholder__";
        string? raw = null;
        switch (c.Edit)
        {
            case SpecEdit.Delete:
                if (parent is JsonObject from) from.Remove(key!);
                else ((JsonArray)parent).RemoveAt(index);
                break;
            case SpecEdit.Null: Set(parent, key, index, null); break;
            case SpecEdit.Retype: Set(parent, key, index, OtherTypes[c.Payload % OtherTypes.Length]()); break;
            case SpecEdit.Extreme:
                raw = ExtremeTokens[c.Payload % ExtremeTokens.Length];
                Set(parent, key, index, JsonValue.Create(placeholder));
                break;
            case SpecEdit.Rename when parent is JsonObject renamed:
                var value = renamed[key!];
                renamed.Remove(key!);
                renamed[c.Payload % 2 == 0 ? key!.ToUpperInvariant() : key + "x"] = value;
                break;
            case SpecEdit.Duplicate when parent is JsonObject doubled:
                doubled[placeholder] = doubled[key!]?.DeepClone();
                raw = JsonSerializer.Serialize(key);
                return Indented(root).Replace($"\"{placeholder}\"", raw);
            case SpecEdit.HugeString: Set(parent, key, index, JsonValue.Create(HugeStrings[c.Payload % HugeStrings.Length])); break;
            case SpecEdit.HugeList: Set(parent, key, index, new JsonArray([.. Enumerable.Range(0, 5_000).Select(i => JsonValue.Create(16 + i % 3))])); break;
            case SpecEdit.Truncate:
                string whole = Indented(root);
                return whole[..(c.Payload % whole.Length)];
            case SpecEdit.FlipCharacter:
                string text = Indented(root);
                int at = c.Payload % text.Length;
                char[] replacements = ['{', '}', '"', ',', '\0', '9', '\n', ':', '[', '-'];
                return string.Concat(text.AsSpan(0, at), replacements[c.Payload % replacements.Length].ToString(), text.AsSpan(at + 1));
            default: // renaming or doubling a list element: retype it instead
                Set(parent, key, index, OtherTypes[c.Payload % OtherTypes.Length]());
                break;
        }
        string json = Indented(root);
        return raw is null ? json : json.Replace($"\"{placeholder}\"", raw);
    }

    private static string Indented(JsonNode root) => root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private static void Set(JsonNode parent, string? key, int index, JsonNode? value)
    {
        if (parent is JsonObject o) o[key!] = value;
        else ((JsonArray)parent)[index] = value;
    }

    private static void Collect(JsonNode node, List<(JsonNode, string?, int)> into)
    {
        if (node is JsonObject o)
            foreach (var (key, child) in o.ToList())
            {
                into.Add((o, key, -1));
                if (child is not null) Collect(child, into);
            }
        else if (node is JsonArray a)
            for (int i = 0; i < a.Count; i++)
            {
                into.Add((a, null, i));
                if (a[i] is { } child) Collect(child, into);
            }
    }

    /// <summary>A copy of the dataset with one file damaged as the case says.</summary>
    private string DamagedCopy(DataCase c)
    {
        string source = _work.Combine("data");
        string copy = _work.Combine($"data-{Guid.NewGuid():N}");
        Directory.CreateDirectory(copy);
        foreach (string f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        string path = Path.Combine(copy, IdxFiles[c.File]);
        byte[] gz = File.ReadAllBytes(path);
        byte[] raw = Decompress(gz);
        byte[] damaged = c.Edit switch
        {
            DataEdit.Truncate => SyntheticFashion.Encode(raw[..(c.Position % raw.Length)], compress: true),
            DataEdit.FlipByte => SyntheticFashion.Encode(Flip(raw, c.Position % raw.Length, (byte)(1 + c.Value % 255)), compress: true),
            DataEdit.Dimension => SyntheticFashion.Encode(WithDimension(raw, c.Position, c.Value), compress: true),
            DataEdit.Garbage => [.. Enumerable.Range(0, 1 + c.Position % 4096).Select(i => (byte)((i * 2654435761u + c.Value) >> 24))],
            DataEdit.Empty => [],
            DataEdit.DamagedGzip => Flip(gz, 10 + c.Position % (gz.Length - 10), (byte)(1 + c.Value % 255)),
            _ => throw new ArgumentOutOfRangeException(nameof(c)),
        };
        File.WriteAllBytes(path, damaged);
        return copy;
    }

    private static byte[] Flip(byte[] bytes, int at, byte mask)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= mask;
        return copy;
    }

    /// <summary>One of the header's dimensions (or its dimension count) rewritten.</summary>
    private static byte[] WithDimension(byte[] raw, int which, uint value)
    {
        var copy = (byte[])raw.Clone();
        int dimensions = copy[3];
        int slot = which % (dimensions + 1);
        if (slot == dimensions) copy[3] = (byte)value;
        else System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(4 + 4 * slot, 4), value);
        return copy;
    }

    private static byte[] Decompress(byte[] gz)
    {
        using var gzip = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gzip.CopyTo(buffer);
        return buffer.ToArray();
    }
}
