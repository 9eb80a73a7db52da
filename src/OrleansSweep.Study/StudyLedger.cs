using System.Text;
using System.Text.Json;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;

namespace OrleansSweep.Study;

/// <summary>
/// results.jsonl: every result of the study, one JSON object per line (<see cref="Line"/>), in the order the sweep
/// recorded them, appended as they arrive. It is what makes writing a study cost what is new: a new result appends one
/// line, while the tables (results.json/csv, grids) are views of it refreshed now and then (see StudyWriter). pandas
/// reads it with <c>read_json(path, lines=True)</c>. A process killed while appending leaves at most one torn last line;
/// readers skip it and the next writer cuts it off before appending.
/// </summary>
public sealed class StudyLedger(string path)
{
    /// <summary>One line: the sweep's sequence number of the record, and the result.</summary>
    public sealed record Line(long Sequence, TrialResult Result);

    private static readonly JsonSerializerOptions OneLine = new(SweepSpecLoader.JsonOptions) { WriteIndented = false };

    public string Path { get; } = path;

    public bool Exists => File.Exists(Path);

    /// <summary>Every whole line, in order; a torn last line (no newline after it) is left out.</summary>
    public IReadOnlyList<Line> Read() => ReadWhole(out _);

    private List<Line> ReadWhole(out long wholeBytes)
    {
        var lines = new List<Line>();
        wholeBytes = 0;
        if (!File.Exists(Path)) return lines;
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        wholeBytes = EndOfLastWholeLine(stream);
        bool torn = wholeBytes != stream.Length;
        stream.Position = 0;
        using var reader = new StreamReader(stream, new UTF8Encoding(false));
        // One line behind: the last line is parsed only when a newline ended it.
        string? previous = null;
        int lineNumber = 0;
        for (string? line; (line = reader.ReadLine()) is not null; previous = line)
            if (previous is not null) Parse(previous, ++lineNumber, lines);
        if (previous is not null && !torn) Parse(previous, ++lineNumber, lines);
        return lines;
    }

    private void Parse(string json, int lineNumber, List<Line> into)
    {
        if (json.Length == 0) return;
        try
        {
            into.Add(JsonSerializer.Deserialize<Line>(json, OneLine) ?? throw new JsonException("null"));
        }
        catch (JsonException e)
        {
            throw new StudyReadException($"{Path}: line {lineNumber} is not a result record of this version ({e.Message}).");
        }
    }

    /// <summary>The length of the file up to and including its last newline (0 when it has none).</summary>
    private static long EndOfLastWholeLine(FileStream stream)
    {
        var chunk = new byte[4096];
        for (long end = stream.Length; end > 0;)
        {
            int size = (int)Math.Min(chunk.Length, end);
            stream.Position = end - size;
            stream.ReadExactly(chunk, 0, size);
            int last = Array.LastIndexOf(chunk, (byte)'\n', size - 1, size);
            if (last >= 0) return end - size + last + 1;
            end -= size;
        }
        return 0;
    }

    /// <summary>
    /// Opens the ledger for appending: reads what it holds and cuts off a torn last line, so the next append starts
    /// on a line of its own.
    /// </summary>
    public IReadOnlyList<Line> OpenForAppend()
    {
        var lines = ReadWhole(out long wholeBytes);
        if (File.Exists(Path) && new FileInfo(Path).Length != wholeBytes)
        {
            using var stream = new FileStream(Path, FileMode.Open, FileAccess.Write, FileShare.Read);
            stream.SetLength(wholeBytes);
        }
        return lines;
    }

    /// <summary>Appends records and flushes them to the disk before returning.</summary>
    public void Append(IEnumerable<Line> lines)
    {
        var text = Serialize(lines);
        if (text.Length == 0) return;
        using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        stream.Write(text);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Replaces the ledger with these records, atomically (a reader sees the old one or the new one).</summary>
    public void Replace(IEnumerable<Line> lines)
    {
        string temporary = $"{Path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(Serialize(lines));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, Path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private static byte[] Serialize(IEnumerable<Line> lines)
    {
        using var buffer = new MemoryStream();
        foreach (var line in lines)
        {
            JsonSerializer.Serialize(buffer, line, OneLine);
            buffer.WriteByte((byte)'\n');
        }
        return buffer.ToArray();
    }
}
