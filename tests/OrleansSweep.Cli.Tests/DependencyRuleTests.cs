using System.Diagnostics;
using System.Reflection;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// The dependency rule (README "Layout", docs/design.md §5): dependencies point one way, and each project uses only what
/// its room needs. Read from the compiled assemblies' references (what the code really uses), so a stray using of a
/// server or native package shows here even when no project file changed.
/// </summary>
public sealed class DependencyRuleTests
{
    private static IReadOnlyList<string> ReferencesOf(string assembly) =>
        Assembly.Load(assembly).GetReferencedAssemblies().Select(a => a.Name!).ToList();

    private static string[] OurOtherProjects(string except) =>
        new[] { "Abstractions", "Training", "Grains", "Client", "Reporting", "Cli", "Hosting", "Core", "Study" }
            .Select(p => "OrleansSweep." + p).Where(p => p != except).ToArray();

    public static TheoryData<string, string[]> Forbidden => new()
    {
        { "OrleansSweep.Core", ["Orleans", "TorchSharp", .. OurOtherProjects("OrleansSweep.Core")] },
        { "OrleansSweep.Training", ["Orleans", "OrleansSweep.Abstractions", "OrleansSweep.Grains", "OrleansSweep.Client"] },
        { "OrleansSweep.Reporting", ["Orleans", "TorchSharp", "OrleansSweep.Training", "OrleansSweep.Grains"] },
        { "OrleansSweep.Abstractions", ["TorchSharp", "OrleansSweep.Training", "OrleansSweep.Grains"] },
        { "OrleansSweep.Client", ["TorchSharp", "OrleansSweep.Training", "OrleansSweep.Grains", "OrleansSweep.Hosting", "Orleans.Runtime"] },
        {
            "OrleansSweep.Grains",
            ["StackExchange.Redis", "Orleans.Clustering.Redis", "Orleans.Persistence.Redis", "Orleans.Reminders.Redis", "Orleans.Hosting.Kubernetes",
             "Orleans.Dashboard", "Microsoft.AspNetCore", "Microsoft.Data.Sqlite", "OrleansSweep.Client", "OrleansSweep.Hosting", "OrleansSweep.Cli"]
        },
        { "OrleansSweep.Hosting", ["OrleansSweep.Cli"] },
        { "OrleansSweep.Study", ["Orleans", "TorchSharp", .. OurOtherProjects("OrleansSweep.Core")] },
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void Each_project_references_only_what_its_room_needs(string assembly, string[] forbiddenPrefixes)
    {
        var references = ReferencesOf(assembly);
        Assert.NotEmpty(references);
        // "Orleans" forbids Orleans.Core and Orleans.Runtime, not OrleansSweep.Core: a name, or a name and a dot.
        var offending = references.Where(r => forbiddenPrefixes.Any(f => r == f || r.StartsWith(f + ".", StringComparison.Ordinal))).ToList();
        Assert.True(offending.Count == 0, $"{assembly} references {string.Join(", ", offending)}");
    }

    [Fact]
    public void The_grains_project_file_names_no_hosting_package()
    {
        var project = System.Xml.Linq.XDocument.Load(Path.Combine(RepositoryRoot.Path, "src", "OrleansSweep.Grains", "OrleansSweep.Grains.csproj"));
        var references = project.Descendants().Where(e => e.Name.LocalName is "PackageReference" or "FrameworkReference")
            .Select(e => (string)e.Attribute("Include")!).ToList();
        Assert.NotEmpty(references);
        foreach (string package in (string[])["Redis", "Kubernetes", "Dashboard", "Sqlite", "AspNetCore"])
            Assert.DoesNotContain(references, r => r.Contains(package, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The CLI carries the server for `run` and `silo`; a client command must not pay for it.</summary>
    [Theory]
    [InlineData("status", "quickstart")]
    [InlineData("submit", "configs/quickstart.json")]
    public async Task A_client_command_loads_no_torchsharp_and_no_grains(string command, string argument)
    {
        string loaded = Path.Combine(Path.GetTempPath(), $"orleans-sweep-loaded-{Guid.NewGuid():N}.txt");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepositoryRoot.Path,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "orleans-sweep.dll"));
        foreach (string a in (string[])[command, argument, "--redis", "127.0.0.1:1,connectTimeout=500"]) start.ArgumentList.Add(a);
        start.Environment["ORLEANS_SWEEP_LOADED_ASSEMBLIES"] = loaded;
        using var process = Process.Start(start)!;
        string output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            Assert.True(process.ExitCode == 69, output); // Redis unreachable: the command ran its client path to the end
            var assemblies = File.ReadAllLines(loaded);
            Assert.Contains("OrleansSweep.Client", assemblies);
            foreach (string server in (string[])["TorchSharp", "OrleansSweep.Training", "OrleansSweep.Grains"])
                Assert.DoesNotContain(server, assemblies);
        }
        finally { File.Delete(loaded); }
    }
}
