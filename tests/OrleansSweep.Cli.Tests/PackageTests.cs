using System.Diagnostics;
using System.Text.RegularExpressions;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// The client library as a user gets it: `dotnet pack` makes OrleansSweep.Client (with Core and Abstractions) NuGet
/// packages, and the README's sample program, which references the package and not the projects, builds against them.
/// </summary>
public sealed class PackageTests : IDisposable
{
    private readonly TemporaryDirectory _work = new("orleans-sweep-pack");
    private static readonly string[] Packed = ["OrleansSweep.Core", "OrleansSweep.Abstractions", "OrleansSweep.Client"];

    public void Dispose() => _work.Dispose();

    private static string Version => Regex.Match(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "Directory.Build.props")),
        "<VersionPrefix>([^<]+)</VersionPrefix>").Groups[1].Value;

    [Fact]
    public void The_sample_references_the_client_package_at_the_repositorys_version()
    {
        string project = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "samples", "ClientSample", "ClientSample.csproj"));
        Assert.Contains($"<PackageReference Include=\"OrleansSweep.Client\" Version=\"{Version}\" />", project);
        Assert.DoesNotContain("ProjectReference", project);
        // And the README tells a user the same line.
        Assert.Contains($"<PackageReference Include=\"OrleansSweep.Client\" Version=\"{Version}\" />", File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md")));
    }

    [Fact]
    public async Task The_readmes_client_sample_builds_against_the_packed_client_package()
    {
        // A version of its own per run: NuGet caches a package by id and version, and must not hand back an older build.
        string version = $"{Version}-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        string packages = _work.Combine("packages");
        // The projects are built already (this test runs in the suite's build); pack takes those builds, in this configuration.
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        try
        {
            foreach (string id in Packed)
                await DotnetAsync(RepositoryRoot.Path, "pack", Path.Combine("src", id, id + ".csproj"), "-c", configuration, "--no-build",
                    "-o", packages, $"-p:Version={version}");
            Assert.Equal(Packed.Select(p => $"{p}.{version}.nupkg").Order(), Directory.GetFiles(packages).Select(Path.GetFileName).Order());

            string sample = _work.Combine("sample");
            Directory.CreateDirectory(sample);
            string shipped = Path.Combine(RepositoryRoot.Path, "samples", "ClientSample");
            foreach (string file in (string[])["Program.cs", "ClientSample.csproj", "Directory.Build.props", "Directory.Packages.props"])
                File.Copy(Path.Combine(shipped, file), Path.Combine(sample, file));
            string project = Path.Combine(sample, "ClientSample.csproj");
            File.WriteAllText(project, File.ReadAllText(project).Replace($"Version=\"{Version}\"", $"Version=\"{version}\""));
            File.WriteAllText(Path.Combine(sample, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration><packageSources><add key="packed" value="{packages}" /></packageSources></configuration>
                """);

            await DotnetAsync(sample, "build", "ClientSample.csproj");
            // Built from the package, not from a project of the repository.
            string assets = File.ReadAllText(Path.Combine(sample, "obj", "project.assets.json"));
            Assert.Contains($"\"OrleansSweep.Client/{version}\"", assets);
            Assert.DoesNotContain("\"type\": \"project\"", assets);
            Assert.True(File.Exists(Path.Combine(sample, "bin", "Debug", "net10.0", "OrleansSweep.Client.dll")));
        }
        finally
        {
            // The test's versions leave the machine's package cache as they found it.
            string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                           ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            foreach (string id in Packed)
            {
                string cached = Path.Combine(cache, id.ToLowerInvariant(), version);
                if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
            }
        }
    }

    private static async Task DotnetAsync(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try { await process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw new TimeoutException($"dotnet {string.Join(' ', args)} ran past 5 minutes"); }
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited {process.ExitCode}:\n{await output}\n{await errors}");
    }
}
