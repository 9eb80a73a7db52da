namespace OrleansSweep.TestSupport;

public static class RepositoryRoot
{
    /// <summary>The directory holding OrleansSweep.sln, found by walking up from the test binaries.</summary>
    public static string Path
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "OrleansSweep.sln"))) return dir.FullName;
            throw new InvalidOperationException("OrleansSweep.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
