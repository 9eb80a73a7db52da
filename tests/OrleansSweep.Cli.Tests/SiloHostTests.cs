using System.Diagnostics;
using OrleansSweep.Hosting;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// The standalone silo host (hosting/OrleansSweep.SiloHost, what systemd and Kubernetes run) as a real process: a
/// setting it cannot use is one line naming the configuration key and exit 2, an unreachable Redis exit 69 — never a
/// stack trace, which is all `systemctl status` or `kubectl logs` would show of a failed start.
/// </summary>
public sealed class SiloHostTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("silo-host-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<(int ExitCode, string Output)> RunHostAsync(params string[] settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _directory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "orleans-sweep-silo.dll"));
        // Free ports and a Redis that refuses at once unless the case sets its own; the host must stop before starting.
        var defaults = new Dictionary<string, string>
        {
            ["SiloPort"] = LoopbackPorts.Free().ToString(), ["GatewayPort"] = LoopbackPorts.Free().ToString(),
            ["DashboardPort"] = "0", ["MetricsPort"] = "0", ["Redis"] = "127.0.0.1:1,connectTimeout=500", ["ArtifactRoot"] = _directory,
        };
        foreach (string setting in settings) defaults[setting.Split('=')[0]] = setting[(setting.IndexOf('=') + 1)..];
        foreach (var (key, value) in defaults) start.ArgumentList.Add($"--OrleansSweep:{key}={value}");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw new TimeoutException("the silo host did not stop on a bad setting"); }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static void AssertOneErrorLine(string output, string expected)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line, got:\n{output}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", output);
    }

    [Theory]
    [InlineData("SiloPort=abc", "'abc' at 'OrleansSweep:SiloPort'")]
    [InlineData("Address=not-an-ip", "OrleansSweep:Address: 'not-an-ip' is not an IP address.")]
    [InlineData("LeaseSeconds=1", "OrleansSweep:LeaseSeconds: 1 (expected at least 3 seconds).")]
    [InlineData("DashboardPort=70000", "OrleansSweep:DashboardPort: 70000 is not a port")]
    [InlineData("MetricsPort=-1", "OrleansSweep:MetricsPort: -1 is not a port")]
    [InlineData("OtlpEndpoint=collector:4317", "OrleansSweep:OtlpEndpoint: 'collector:4317' is not an http(s) URL")]
    [InlineData("TlsCertificate=/etc/hostname", "/etc/hostname: not a readable PKCS#12 certificate")]
    [InlineData("Devices:0=tpu", "OrleansSweep:Devices: 'tpu' is not a device (expected cpu, cuda, cuda:N or auto).")]
    // The CPU build never has CUDA: a GPU silo set up from the shipped files must not quietly train on its CPU.
    [InlineData("Devices:0=cuda:0", "OrleansSweep:Devices: device cuda:0 requested but CUDA is not available")]
    public async Task A_setting_the_silo_cannot_use_is_one_line_naming_it_and_exit_2(string setting, string expected)
    {
        var (exitCode, output) = await RunHostAsync(setting);
        Assert.Equal(2, exitCode);
        AssertOneErrorLine(output, expected);
    }

    [Fact]
    public async Task A_silo_port_in_use_is_named_by_its_configuration_key()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var (exitCode, output) = await RunHostAsync($"SiloPort={port}");
        Assert.Equal(2, exitCode);
        AssertOneErrorLine(output, $"OrleansSweep:SiloPort: 127.0.0.1:{port} is already in use");
    }

    [Fact]
    public async Task A_malformed_appsettings_file_is_named()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "appsettings.json"), "{ \"OrleansSweep\": { \"SiloPort\": ");
        var (exitCode, output) = await RunHostAsync();
        Assert.Equal(2, exitCode);
        AssertOneErrorLine(output, Path.Combine(_directory, "appsettings.json"));
    }

    [Fact]
    public async Task An_unreachable_redis_is_exit_69_naming_the_setting()
    {
        var (exitCode, output) = await RunHostAsync();
        Assert.Equal(69, exitCode);
        AssertOneErrorLine(output, "cannot reach Redis at 127.0.0.1:1");
        Assert.Contains("point OrleansSweep:Redis at the cluster's", output);
    }
}
