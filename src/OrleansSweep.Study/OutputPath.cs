namespace OrleansSweep.Study;

/// <summary>A file or directory the user asked to be written that cannot be: the message names it and why.</summary>
public sealed class OutputPathException(string message) : Core.UserErrorException(message);

/// <summary>
/// Checks, before anything is written, that a path the user named can take what is to be written there: a file whose
/// directory exists and that is not a directory, or a directory that is not a file. Said in one line naming the path.
/// </summary>
public static class OutputPath
{
    /// <summary>A file is to be written at <paramref name="path"/>.</summary>
    public static void Check(string path, string? option = null)
    {
        string named = option is null ? path : $"{option}: {path}";
        if (Directory.Exists(path)) throw new OutputPathException($"{named}: is a directory (expected a file to write).");
        string? parent = Path.GetDirectoryName(Path.GetFullPath(path));
        if (parent is not null && !Directory.Exists(parent))
            throw new OutputPathException($"{named}: its directory {parent} does not exist (create it first, or choose another path).");
    }

    /// <summary>A directory is to be created (or used) at <paramref name="path"/>.</summary>
    public static void CheckDirectory(string path, string? option = null, string? advice = null)
    {
        string named = option is null ? path : $"{option}: {path}";
        if (File.Exists(path)) throw new OutputPathException($"{named}: is a file (expected a directory{(advice is null ? "" : $"; {advice}")}).");
    }
}
