namespace OrleansSweep.Cli;

/// <summary>A study directory that cannot be created or written.</summary>
public sealed class StudyDirectoryException(string message) : Exception(message);

public static class StudyDirectory
{
    public static string DefaultFor(string sweepName) => Path.Combine("studies", sweepName);

    /// <summary>Creates the directory if needed and proves it writable, so a sweep never trains into a dead end.</summary>
    public static string Prepare(string path)
    {
        string full = Path.GetFullPath(path);
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
}
