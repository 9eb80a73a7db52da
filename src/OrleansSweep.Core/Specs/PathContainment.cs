namespace OrleansSweep.Core.Specs;

/// <summary>
/// Keeps paths a spec supplies inside the directories a silo allows: a spec submitted to a cluster comes from a
/// client, and must not make silos read (or write) wherever it likes.
/// </summary>
public static class PathContainment
{
    /// <summary>
    /// The path with ".", ".." and symbolic links resolved, as far as it exists (a link anywhere along it counts, so a
    /// link inside a root cannot lead out of it); the part that does not exist yet is appended as written.
    /// </summary>
    public static string Resolve(string path) => Resolve(path, links: 0);

    private static string Resolve(string path, int links)
    {
        if (links > 40) throw new IOException($"{path}: too many levels of symbolic links.");
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full)!;
        string current = root;
        var parts = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            string next = Path.Combine(current, parts[i]);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.Exists && info.LinkTarget is { } target)
            {
                // Continue from the link's target (relative targets are relative to the link's directory).
                string resolved = Path.GetFullPath(target, current);
                return Resolve(Path.Combine([resolved, .. parts[(i + 1)..]]), links + 1);
            }
            current = next;
        }
        return current;
    }

    public static bool IsInside(string path, IEnumerable<string> roots)
    {
        string resolved = Resolve(path);
        return roots.Select(root => Resolve(root)).Any(root =>
            resolved == root || resolved.StartsWith(root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal));
    }

    /// <summary>Why the dataset may not be read here, or null when it may (no roots configured: anything the process can read).</summary>
    public static string? DatasetViolation(DatasetSpec dataset, IReadOnlyList<string>? roots)
    {
        if (roots is null || dataset.Path is null) return null; // null path: the dataset's system location, not the spec's choice
        return IsInside(dataset.Path, roots) ? null
            : $"dataset.path: '{dataset.Path}' is outside the directories this cluster reads datasets from ({string.Join(", ", roots)}); " +
              "put the data under one of them (silo setting DataRoots).";
    }
}
