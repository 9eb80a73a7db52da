using System.Text.RegularExpressions;

namespace OrleansSweep.Study;

/// <summary>
/// A study's copy of its sweep's TensorBoard event files (<c>&lt;study&gt;/tensorboard/&lt;trial&gt;/events.out.tfevents.*</c>),
/// brought from a cluster's artifact root by appending what each file gained since the last copy: event files only
/// grow, so the length of the local copy says where it stands.
/// </summary>
public sealed partial class StudyTensorBoard(string studyDirectory)
{
    private readonly string _directory = new StudyLayout(studyDirectory).TensorBoard;

    /// <summary>Each event file held, by its path relative to the TensorBoard directory ("&lt;trial&gt;/events..."), and its length.</summary>
    public IReadOnlyDictionary<string, long> Lengths()
    {
        if (!Directory.Exists(_directory)) return new Dictionary<string, long>();
        return Directory.EnumerateFiles(_directory, "events.out.tfevents.*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(_directory, f).Replace(Path.DirectorySeparatorChar, '/'), f => new FileInfo(f).Length);
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> at <paramref name="offset"/> of the file <paramref name="relativePath"/>: 0 starts the
    /// file afresh, the local length appends. The path must be a trial's event file, "&lt;trial&gt;/events.out.tfevents.*":
    /// anything else (a "..", a rooted path, another name) is refused, whoever sent it.
    /// </summary>
    public void Write(string relativePath, long offset, ReadOnlySpan<byte> bytes)
    {
        if (!EventFilePath().IsMatch(relativePath))
            throw new InvalidDataException($"'{relativePath}' is not a trial's TensorBoard event file (expected <trial>/events.out.tfevents.*).");
        string path = Path.Combine(_directory, relativePath.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read);
        if (offset != 0 && offset != stream.Length)
            throw new InvalidDataException($"{path}: {stream.Length} bytes held, but the copy continues at byte {offset}.");
        stream.SetLength(offset);
        stream.Position = offset;
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    // Trial ids are letters, digits, '.', '_', '-', '^' (the LR's "2^-8"); the writer names its files events.out.tfevents.<time>.<host>.<pid>.<n>.
    [GeneratedRegex(@"^[A-Za-z0-9_^-][A-Za-z0-9._^-]*/events\.out\.tfevents\.[A-Za-z0-9._-]+$")]
    private static partial Regex EventFilePath();
}
