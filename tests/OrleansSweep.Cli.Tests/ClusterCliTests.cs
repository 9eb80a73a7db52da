using System.Diagnostics;
using OrleansSweep.Cli;
using OrleansSweep.Core.Results;
using OrleansSweep.Hosting;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// A real cluster of separate processes on loopback: two `orleans-sweep silo` processes (one coordinator-only, one with
/// a device) sharing a Redis (.ci/run starts it; ORLEANS_SWEEP_TEST_REDIS overrides), driven by the CLI as a client.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class ClusterCliTests : IAsyncLifetime
{
    private readonly TemporaryDirectory _work = new("orleans-sweep-cluster-cli");
    private readonly string _clusterId = $"cli-test-{Guid.NewGuid():N}";
    private readonly SiloProcesses _silos;
    private readonly StringWriter _output = new();
    private readonly int _coordinatorPort = LoopbackPorts.Free();
    private readonly int _dashboardPort = LoopbackPorts.Free();
    private readonly int[] _metricsPorts = [LoopbackPorts.Free(), LoopbackPorts.Free()];

    public ClusterCliTests() => _silos = new SiloProcesses(_clusterId, _work.Combine("artifacts"), _work.Path);

    private static string Redis => SiloProcesses.Redis;
    private string[] Cluster => _silos.Cluster;

    public async Task InitializeAsync()
    {
        _silos.Start(_coordinatorPort, "--coordinator-only", "--metrics-port", _metricsPorts[0].ToString());
        _silos.Start(LoopbackPorts.Free(), "--device", "cpu", "--slots", "2", "--threads", "1", "--dashboard-port", _dashboardPort.ToString(),
            "--metrics-port", _metricsPorts[1].ToString());
        foreach (var silo in _silos.All) await _silos.JoinedAsync(silo);
    }

    public async Task DisposeAsync()
    {
        await _silos.DisposeAsync();
        _work.Dispose();
    }

    private sealed record Sample(string Name, string Labels, double Value);

    /// <summary>Both silos' /metrics in Prometheus' text format, one sample per line ("name{labels} value").</summary>
    private async Task<List<Sample>> ScrapeAsync(HttpClient http)
    {
        var samples = new List<Sample>();
        foreach (int port in _metricsPorts)
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/metrics");
            response.EnsureSuccessStatusCode();
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
            foreach (string line in (await response.Content.ReadAsStringAsync()).Split('\n'))
            {
                if (line.Length == 0 || line.StartsWith('#')) continue;
                int brace = line.IndexOf('{');
                // "name{labels} value [timestamp]": the value is the field after the labels.
                string[] fields = (brace >= 0 ? line[(line.IndexOf('}') + 1)..] : line[line.IndexOf(' ')..]).Trim().Split(' ');
                string name = brace >= 0 ? line[..brace] : line[..line.IndexOf(' ')];
                string labels = brace >= 0 ? line[brace..(line.IndexOf('}') + 1)] : "";
                samples.Add(new Sample(name, labels, double.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
        return samples;
    }

    private async Task<int> Cli(params string[] args)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        return await CliApp.InvokeAsync(args, TestConsole.Create(_output), limit.Token);
    }

    [Fact]
    public async Task Submit_watch_status_and_list_a_sweep_on_a_cluster_of_processes()
    {
        string data = _work.Combine("data");
        SyntheticFashion.Write(data, trainCount: 128, testCount: 20);
        string spec = _work.Combine("spec.json");
        File.WriteAllText(spec, SyntheticFashion.SpecJson("cluster-cli", data, batchSizes: [16, 32], learningRates: ["2^-8", "2^4"], epochs: 1));

        using var http = new HttpClient();
        var before = await ScrapeAsync(http);
        Assert.DoesNotContain(before, m => m.Name == "orleans_sweep_results_total");
        Assert.Equal(2.0, before.Single(m => m.Name == "orleans_sweep_device_slots" && m.Labels.Contains("state=\"free\"")).Value);

        Assert.Equal(ExitCodes.Ok, await Cli(["submit", spec, .. Cluster]));
        Assert.Contains("Submitted sweep cluster-cli: 4 trials", _output.ToString());
        string watched = _work.Combine("watched");
        Assert.Equal(ExitCodes.Ok, await Cli(["watch", "cluster-cli", "--study", watched, .. Cluster]));
        Assert.Contains("2 converged, 2 diverged, 0 failed", _output.ToString());
        // The silos' Prometheus endpoints moved with the sweep: each result counted once, where its sweep grain lives; the
        // epochs timed where they trained; the sweep's trials all finished.
        var after = await ScrapeAsync(http);
        double Sum(string name, string label) => after.Where(m => m.Name == name && m.Labels.Contains(label) && m.Labels.Contains("sweep=\"cluster-cli\"")).Sum(m => m.Value);
        Assert.Equal(2.0, Sum("orleans_sweep_results_total", "status=\"completed\""));
        Assert.Equal(2.0, Sum("orleans_sweep_results_total", "status=\"diverged\""));
        Assert.Equal(4.0, Sum("orleans_sweep_trials", "state=\"finished\""));
        Assert.True(after.Where(m => m.Name == "orleans_sweep_epoch_duration_seconds_count").Sum(m => m.Value) >= 2);
        Assert.Contains(after, m => m.Name.StartsWith("orleans_", StringComparison.Ordinal) && !m.Name.StartsWith("orleans_sweep", StringComparison.Ordinal)); // Orleans' own meters beside ours
        // The live page on the silo's web server (the dashboard's): the sweep as it ended, from the cluster's records.
        using var live = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{_dashboardPort}/sweeps/cluster-cli/state"));
        Assert.Equal("completed", live.RootElement.GetProperty("state").GetString());
        Assert.Equal((4, 2, 2), (live.RootElement.GetProperty("finished").GetInt32(), live.RootElement.GetProperty("completed").GetInt32(),
            live.RootElement.GetProperty("diverged").GetInt32()));
        Assert.Contains("<title>cluster-cli · OrleansSweep</title>", await http.GetStringAsync($"http://127.0.0.1:{_dashboardPort}/sweeps/cluster-cli"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{_dashboardPort}/sweeps/no-such-sweep/state")).StatusCode);

        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.Ok, await Cli(["status", "cluster-cli", "--json", .. Cluster]));
        using var status = System.Text.Json.JsonDocument.Parse(_output.ToString());
        Assert.Equal("completed", status.RootElement.GetProperty("state").GetString());
        Assert.Equal(4, status.RootElement.GetProperty("results").GetArrayLength());
        // Trials ran on the device silo, never on the coordinator.
        Assert.All(status.RootElement.GetProperty("results").EnumerateArray(),
            r => Assert.False(r.GetProperty("silo").GetString()!.EndsWith($":{_coordinatorPort}"), r.GetProperty("silo").GetString()));

        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.Ok, await Cli(["list", .. Cluster]));
        Assert.Contains("cluster-cli\tcompleted\t4/4", _output.ToString());

        // A study from the cluster: `pull` writes what `run` writes; a second pull with nothing new changes no file.
        string pulled = _work.Combine("pulled");
        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.Ok, await Cli(["pull", "cluster-cli", "--study", pulled, .. Cluster]));
        Assert.Contains("Pulled 4 new result(s) of sweep cluster-cli (completed, 4/4 trials finished)", Normalized(_output.ToString()));
        var files = Directory.GetFiles(pulled, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal))
            .ToDictionary(f => f, f => (File.GetLastWriteTimeUtc(f), Convert.ToHexString(File.ReadAllBytes(f))));
        Assert.Contains(Path.Combine(pulled, "report", "report.html"), files.Keys);
        // The trials' TensorBoard runs, written by the device silo under the artifact root, come with the pull byte for byte.
        string silosBoard = _work.Combine("artifacts", "sweeps", "cluster-cli", "tensorboard");
        var written = Directory.GetFiles(silosBoard, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(silosBoard, f), f => Convert.ToHexString(File.ReadAllBytes(f)));
        Assert.Equal(4, written.Keys.Select(k => Path.GetDirectoryName(k)).Distinct().Count());
        string pulledBoard = Path.Combine(pulled, "tensorboard");
        Assert.Equal(written, Directory.GetFiles(pulledBoard, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(pulledBoard, f), f => Convert.ToHexString(File.ReadAllBytes(f))));
        Assert.Contains($"bytes of TensorBoard event files", Normalized(_output.ToString()));
        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.Ok, await Cli(["pull", "cluster-cli", "--study", pulled, .. Cluster]));
        Assert.Contains("Nothing new", _output.ToString());
        Assert.Equal(files, Directory.GetFiles(pulled, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal))
            .ToDictionary(f => f, f => (File.GetLastWriteTimeUtc(f), Convert.ToHexString(File.ReadAllBytes(f)))));
        Assert.Equal(File.ReadAllText(Path.Combine(pulled, "results.csv")), File.ReadAllText(Path.Combine(watched, "results.csv")));

        // The same spec run embedded on one thread per trial, as the cluster's device silo trains: the same numbers.
        string embedded = _work.Combine("embedded");
        Assert.Equal(ExitCodes.Ok, await Cli(["run", spec, "--study", embedded, "--threads", "1", "--plain"]));
        static List<string> Rows(string study)
        {
            var lines = File.ReadAllLines(Path.Combine(study, "results.csv"));
            int seconds = Array.IndexOf(lines[0].Split(','), "seconds"); // wall time differs; every number of the result must not
            return lines.Select(line => string.Join(",", line.Split(',').Where((_, column) => column != seconds))).ToList();
        }
        Assert.Equal(string.Join("\n", Rows(embedded)), string.Join("\n", Rows(pulled)));
        _output.GetStringBuilder().Clear();
        int verdict = await Cli(["verify", pulled, "--json"]);
        string pulledVerdict = _output.ToString();
        _output.GetStringBuilder().Clear();
        Assert.Equal(verdict, await Cli(["verify", embedded, "--json"]));
        Assert.Equal(pulledVerdict.Replace(pulled, "STUDY"), _output.ToString().Replace(embedded, "STUDY"));

        // The same name with other settings: the sweep grain refuses it, the user reads one line (exit 2).
        _output.GetStringBuilder().Clear();
        File.WriteAllText(spec, SyntheticFashion.SpecJson("cluster-cli", data, batchSizes: [16, 32], learningRates: ["2^-8", "2^4"], epochs: 2));
        Assert.Equal(ExitCodes.UserError, await Cli(["submit", spec, .. Cluster]));
        Assert.Contains("sweep 'cluster-cli': already exists with a different spec", Normalized(_output.ToString()));
        Assert.DoesNotContain("internal error", _output.ToString());
    }

    [Fact]
    public async Task An_unknown_sweep_and_a_spec_reading_outside_the_data_roots_are_clear_errors()
    {
        Assert.Equal(ExitCodes.UserError, await Cli(["status", "nope", .. Cluster]));
        Assert.Contains("no sweep named 'nope' on this cluster", _output.ToString());

        // The silos read datasets only under their data roots (here the test's directory): a spec naming /etc, or
        // escaping with "..", is refused by the sweep grain before anything runs.
        foreach (string outside in (string[])["/etc", _work.Combine("..", "elsewhere")])
        {
            _output.GetStringBuilder().Clear();
            string spec = _work.Combine($"outside-{Guid.NewGuid():N}.json");
            File.WriteAllText(spec, SyntheticFashion.SpecJson("outside", outside, epochs: 1));
            Assert.Equal(ExitCodes.UserError, await Cli(["submit", spec, .. Cluster]));
            Assert.Contains($"dataset.path: '{outside}' is outside the directories this cluster reads datasets from", Normalized(_output.ToString()));
        }
    }

    [Fact]
    public async Task The_orleans_dashboard_serves_the_cluster_on_loopback()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        string page = await http.GetStringAsync($"http://127.0.0.1:{_dashboardPort}/");
        Assert.Contains("<title>Orleans Dashboard</title>", page);
        // Its data (refreshed every second or so): both silos of this cluster, as the dashboard's own API reports them.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string counters;
        while (!(counters = await http.GetStringAsync($"http://127.0.0.1:{_dashboardPort}/DashboardCounters")).Contains($":{_coordinatorPort}"))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the dashboard did not list the coordinator silo in 30 s: {counters[..Math.Min(300, counters.Length)]}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task A_silo_stopped_with_SIGTERM_checkpoints_its_trials_and_hands_them_to_another_silo()
    {
        // 4,096 images at batch 16: 256 steps an epoch, 6 epochs: still training when the silo that takes over has joined.
        await SubmitTwoTrialsAsync("graceful", images: 4096);

        await using (var cluster = await ClusterConnection.ConnectAsync(new ClusterConnection.Settings(Redis, _clusterId, _clusterId), CancellationToken.None))
        {
            // Both trials past their first epoch (on a loaded machine the second can lag the first by most of one), so
            // that each has an epoch to keep.
            await UntilAsync(cluster, "graceful", s => s.Running.Count == 2 && s.Running.All(t => t.EpochsDone >= 1), "both finish an epoch");
        }
        var stopping = _silos.All[1];
        var takeover = _silos.Start(LoopbackPorts.Free(), "--device", "cpu", "--slots", "2", "--threads", "1");
        await _silos.JoinedAsync(takeover);

        using (var kill = Process.Start("kill", ["-TERM", stopping.Id.ToString()])) await kill.WaitForExitAsync();
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60))) await stopping.WaitForExitAsync(limit.Token);
        Assert.True(stopping.ExitCode == 0, $"the stopped silo exited with {stopping.ExitCode}:\n{_silos.Output(stopping)}");
        // No exception from our code and no crash. Orleans' own lifecycle may log an error while the silo stops (a message
        // to a trial grain it is deactivating, its reminder service's stop cut short): those race the stop, not a fault.
        var ours = _silos.Output(stopping).Split('\n')
            .Where(l => l.Contains("Exception") && (l.Contains("OrleansSweep.") || l.Contains("Unhandled exception"))).ToList();
        Assert.True(ours.Count == 0, $"the stopped silo reported an exception:\n{_silos.Output(stopping)}");

        Assert.Equal(ExitCodes.Ok, await Cli(["watch", "graceful", .. Cluster]));
        await using (var cluster = await ClusterConnection.ConnectAsync(new ClusterConnection.Settings(Redis, _clusterId, _clusterId), CancellationToken.None))
        {
            var snapshot = await cluster.Client.GetSnapshotAsync("graceful");
            Assert.Equal(2, snapshot.Results.Count);
            Assert.All(snapshot.Results.Values, r =>
            {
                Assert.Equal(TrialStatus.Completed, r.Status);
                Assert.Equal(6, r.Epochs.Count);
                // Finished by the silo that took over, from the stopped silo's checkpoint: at least one epoch kept.
                Assert.EndsWith(_silos.PortOf(takeover), r.Silo);
                Assert.True(r.ResumedFromEpoch >= 1 && r.ResumedFromStep >= 256, $"{r.TrialId}: resumed from epoch {r.ResumedFromEpoch}, step {r.ResumedFromStep}");
            });
            // The graceful stop checkpointed the step each trial had reached, not only its last epoch: a trial stopped at
            // the very end of an epoch would resume at the boundary, but not both (SIGTERM lands inside one of 256 steps).
            Assert.Contains(snapshot.Results.Values, r => r.ResumedFromStep > r.ResumedFromEpoch * 256L);
        }
    }

    [Fact]
    public async Task Pause_continue_cancel_and_continue_again_through_the_cli()
    {
        await SubmitTwoTrialsAsync("control", images: 1024);

        await using var cluster = await ClusterConnection.ConnectAsync(new ClusterConnection.Settings(Redis, _clusterId, _clusterId), CancellationToken.None);
        Task Until(Func<OrleansSweep.Abstractions.SweepSnapshot, bool> condition, string what) => UntilAsync(cluster, "control", condition, what);
        await Until(s => s.Running.Any(t => t.EpochsDone >= 1), "finish an epoch");

        // Pause, twice: the second is a no-op. Running trials stop at a step; none becomes a result.
        Assert.Equal(ExitCodes.Ok, await Cli(["pause", "control", .. Cluster]));
        Assert.Equal(ExitCodes.Ok, await Cli(["pause", "control", .. Cluster]));
        await Until(s => s.State == Core.Sweeps.SweepState.Paused && !s.Statuses.Values.Contains(TrialStatus.Running), "stop its trials");
        Assert.Empty((await cluster.Client.GetSnapshotAsync("control")).Results);

        // Continue, then cancel (twice), then continue again: the trials finish from their checkpoints, each cell once.
        Assert.Equal(ExitCodes.Ok, await Cli(["continue", "control", .. Cluster]));
        await Until(s => s.State == Core.Sweeps.SweepState.Running, "run again");
        Assert.Equal(ExitCodes.Ok, await Cli(["cancel", "control", .. Cluster]));
        Assert.Equal(ExitCodes.Ok, await Cli(["cancel", "control", .. Cluster]));
        await Until(s => s.State == Core.Sweeps.SweepState.Cancelled && !s.Statuses.Values.Contains(TrialStatus.Running), "stop on cancel");
        Assert.Equal(ExitCodes.Ok, await Cli(["continue", "control", .. Cluster]));
        Assert.Equal(ExitCodes.Ok, await Cli(["watch", "control", .. Cluster]));
        var final = await cluster.Client.GetSnapshotAsync("control");
        Assert.Equal(Core.Sweeps.SweepState.Completed, final.State);
        Assert.Equal(2, final.Results.Count);
        Assert.All(final.Results.Values, r => Assert.Equal((TrialStatus.Completed, 6), (r.Status, r.Epochs.Count)));
        Assert.Contains(final.Results.Values, r => r.ResumedFromEpoch >= 1);
        Assert.Empty(final.DuplicateReports);

        // A sweep that does not exist: one line, exit 2.
        _output.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.UserError, await Cli(["pause", "no-such-sweep", .. Cluster]));
        Assert.Contains("no sweep named 'no-such-sweep'", Normalized(_output.ToString()));
    }

    /// <summary>Submits a sweep of two trials (batch 16, eta~ 2^-8 and 2^-7, 6 epochs) on <paramref name="images"/> generated images.</summary>
    private async Task SubmitTwoTrialsAsync(string name, int images)
    {
        string data = _work.Combine($"data-{name}");
        SyntheticFashion.Write(data, trainCount: images, testCount: 20);
        string spec = _work.Combine($"{name}.json");
        File.WriteAllText(spec, SyntheticFashion.SpecJson(name, data, batchSizes: [16], learningRates: ["2^-8", "2^-7"], epochs: 6));
        Assert.Equal(ExitCodes.Ok, await Cli(["submit", spec, .. Cluster]));
    }

    /// <summary>Waits (at most 120 s) until the sweep's snapshot satisfies <paramref name="condition"/>.</summary>
    private static async Task UntilAsync(ClusterConnection cluster, string sweep, Func<OrleansSweep.Abstractions.SweepSnapshot, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!condition(await cluster.Client.GetSnapshotAsync(sweep)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"sweep '{sweep}' did not {what} in 120 s");
            await Task.Delay(100);
        }
    }

    private static string Normalized(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");
}
