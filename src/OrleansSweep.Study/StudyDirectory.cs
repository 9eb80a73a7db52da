using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Study;

/// <summary>A study directory that cannot be created or written.</summary>
public sealed class StudyDirectoryException(string message) : Core.UserErrorException(message);

/// <summary>A study directory's life: where it goes by default, creating it, and holding it for one process.</summary>
public static class StudyDirectory
{
    public static string DefaultFor(string sweepName) => Path.Combine("studies", sweepName);

    /// <summary>
    /// Creates the directory if needed and proves it writable, so a sweep never trains into a dead end. A study of
    /// another spec is refused (its state and checkpoints belong to that sweep), unless the spec only adds values to
    /// its grid axes: then the study grows (<paramref name="previous"/> is its spec so far).
    /// </summary>
    public static string Prepare(string path, SweepSpec spec, out SweepSpec? previous)
    {
        if (string.IsNullOrWhiteSpace(path) || path.IndexOfAny(['\0', '\n', '\r']) >= 0)
            throw new StudyDirectoryException($"--study: empty, or holding a line break or NUL (expected a directory path such as studies/{spec.Name}).");
        string full = Path.GetFullPath(path);
        string existingSpec = Path.Combine(full, StudyLayout.SpecFileName);
        previous = File.Exists(existingSpec) ? SweepSpecLoader.LoadFile(existingSpec) : null;
        if (previous is not null && SpecFingerprint.Compute(previous) != SpecFingerprint.Compute(spec)
            && Core.Sweeps.GridExtension.Differences(previous, spec) is { Count: > 0 } differences)
            throw new StudyDirectoryException(
                $"{full}: holds a study of a different spec ({existingSpec}: {string.Join("; ", differences)}); only values added to grid " +
                "axes grow a study. Choose another --study directory, or another sweep name.");
        try
        {
            if (File.Exists(full)) throw new StudyDirectoryException($"{full}: is a file (expected a study directory).");
            Directory.CreateDirectory(full);
            string probe = Path.Combine(full, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StudyDirectoryException($"{full}: study directory is not writable ({e.Message}).");
        }
    }

    public const string LockFileName = StudyLayout.LockFileName;

    /// <summary>
    /// Holds the study for this process until disposed: a second `run` or `resume` of the same directory would train
    /// the same trials twice and race on its state. An OS file lock (flock), so a process that dies — kill -9 included
    /// — releases it and the study can be resumed at once; the empty file itself means nothing.
    /// </summary>
    public static IDisposable Lock(string studyDirectory)
    {
        string path = Path.Combine(studyDirectory, LockFileName);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new StudyDirectoryException(
                $"{studyDirectory}: in use by another run or resume of this study (it holds {path}); " +
                $"wait for it to finish, or stop it (Ctrl-C, or kill -TERM) and resume.");
        }
    }
}
