using System.Diagnostics;
using System.Text;
using OrleansSweep.Hosting;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// Real `orleans-sweep silo` processes of one test cluster on loopback (Redis from .ci/run, or ORLEANS_SWEEP_TEST_REDIS):
/// started with free ports, their output captured, killed with the test. Specs may read datasets under <paramref name="dataRoot"/>.
/// </summary>
public sealed class SiloProcesses(string clusterId, string artifacts, string dataRoot, IReadOnlyDictionary<string, string>? environment = null,
    string? redis = null) : IAsyncDisposable
{
    public static readonly string Redis = Environment.GetEnvironmentVariable("ORLEANS_SWEEP_TEST_REDIS") ?? "127.0.0.1:6379";

    /// <summary>This cluster's Redis (the shared test Redis unless the test brings its own).</summary>
    public string ClusterRedis { get; } = redis ?? Redis;

    private readonly List<Process> _processes = [];
    private readonly Dictionary<Process, StringBuilder> _output = new();

    /// <summary>The options every cluster command of this cluster takes.</summary>
    public string[] Cluster => ["--redis", ClusterRedis, "--cluster-id", clusterId, "--service-id", clusterId];

    public IReadOnlyList<Process> All => _processes;

    /// <summary>Starts a silo (no dashboard or metrics endpoint unless <paramref name="args"/> asks for one); <see cref="JoinedAsync"/> waits for it.</summary>
    public Process Start(int siloPort, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "orleans-sweep.dll"));
        foreach (string a in (string[])["silo", .. Cluster, "--silo-port", siloPort.ToString(),
                     "--gateway-port", LoopbackPorts.Free().ToString(), "--artifacts", artifacts, "--data-root", dataRoot,
                     .. args.Contains("--dashboard-port") ? args : [.. args, "--dashboard-port", "0"],
                     .. args.Contains("--metrics-port") ? [] : (string[])["--metrics-port", "0"]])
            start.ArgumentList.Add(a);
        var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        lock (_output) _output[process] = output;
        process.OutputDataReceived += (_, e) => { lock (_output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    public string Output(Process silo) { lock (_output) return _output[silo].ToString(); }

    /// <summary>
    /// A silo says so once it has joined; fail fast with its output if it cannot. After a whole cluster was killed, a
    /// new silo first waits for the dead ones' "I am alive" entries to go stale (45 s), hence the deadline.
    /// </summary>
    public async Task JoinedAsync(Process silo)
    {
        var deadline = DateTime.UtcNow.AddSeconds(150);
        while (!Output(silo).Contains("joined cluster"))
        {
            if (silo.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"silo did not start: {Output(silo)}");
            await Task.Delay(100);
        }
    }

    /// <summary>The silo's ":port" as trial results name it.</summary>
    public string PortOf(Process silo) =>
        System.Text.RegularExpressions.Regex.Match(Output(silo), @"Silo 127\.0\.0\.1:(\d+)").Groups[1].Value is { Length: > 0 } port
            ? ":" + port : throw new InvalidOperationException(Output(silo));

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _processes)
        {
            if (!silo.HasExited) silo.Kill(entireProcessTree: true);
            await silo.WaitForExitAsync();
            silo.Dispose();
        }
    }
}
