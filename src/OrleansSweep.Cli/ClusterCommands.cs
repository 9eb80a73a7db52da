using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Hosting;
using OrleansSweep.Grains.Devices;
using Spectre.Console;
using OrleansSweep.Core.Sweeps;
using OrleansSweep.Study;

namespace OrleansSweep.Cli;

/// <summary>Commands against a running cluster (Redis membership): silo, submit, watch, status, list, pause, cancel.</summary>
public static class ClusterCommands
{
    public static IEnumerable<Command> Build(IAnsiConsole console, Func<Func<Task<int>>, Task<int>> guard)
    {
        var redis = new Option<string>("--redis") { Description = "Redis of the cluster (StackExchange.Redis configuration)", DefaultValueFactory = _ => "127.0.0.1:6379" };
        var clusterId = new Option<string>("--cluster-id") { Description = "Orleans cluster id", DefaultValueFactory = _ => "orleans-sweep" };
        var serviceId = new Option<string>("--service-id") { Description = "Orleans service id (keys the stored state)", DefaultValueFactory = _ => "orleans-sweep" };
        var sweep = new Argument<string>("sweep") { Description = "Sweep name (the spec's \"name\")" };
        var json = new Option<bool>("--json") { Description = "Machine-readable output" };
        var plain = new Option<bool>("--plain") { Description = "Line-by-line progress even on a terminal" };
        var tlsCertificate = new Option<string?>("--tls-certificate")
        {
            Description = $"PKCS#12 file of the cluster's TLS certificate: mutual TLS between silos and clients (password in {Abstractions.ClusterTls.PasswordVariable})",
        };
        ClusterConnection.Settings Connection(ParseResult p) => new(p.GetValue(redis)!, p.GetValue(clusterId)!, p.GetValue(serviceId)!, p.GetValue(tlsCertificate));

        Command WithCluster(Command command) { command.Add(redis); command.Add(clusterId); command.Add(serviceId); command.Add(tlsCertificate); return command; }

        var spec = new Argument<string>("spec") { Description = "Sweep spec (JSON)" };
        var submit = WithCluster(new Command("submit", "Submit a sweep to a running cluster (idempotent for the same spec).\n\n" +
                                                        "Example: orleans-sweep submit configs/quickstart.json --redis 127.0.0.1:6379") { spec });
        submit.SetAction((p, token) => guard(async () =>
        {
            var parsed = SweepSpecLoader.LoadFile(p.GetValue(spec)!);
            await using var cluster = await ClusterConnection.ConnectAsync(Connection(p), token);
            var stored = (await cluster.Client.GetChangesAsync(parsed.Name, long.MaxValue, null, 1, token)).Spec;
            var standing = await cluster.Client.SubmitAsync(parsed, token);
            if (stored is not null && GridExtension.Extends(stored, parsed))
                console.MarkupLineInterpolated($"Extending sweep {parsed.Name}: {GridExtension.AddedCells(stored, parsed)} new cells (the finished ones are kept).");
            console.MarkupLineInterpolated($"Submitted sweep [bold]{parsed.Name}[/]: {standing.TotalTrials} trials, {standing.Recorded} already finished. Follow it with `orleans-sweep watch {parsed.Name}`.");
            return ExitCodes.Ok;
        }));

        var studyOption = new Option<string?>("--study") { Description = "Study directory to write from the cluster's results (default for pull: studies/<sweep>)" };
        var watch = WithCluster(new Command("watch", "Follow a sweep on a cluster until it ends, then print its grids; with --study, also write its study " +
                                                     "directory as results arrive.\n\nExample: orleans-sweep watch quickstart --study studies/quickstart") { sweep, plain, studyOption });
        watch.SetAction((p, token) => guard(async () =>
        {
            await using var cluster = await ClusterConnection.ConnectAsync(Connection(p), token);
            string name = p.GetValue(sweep)!;
            string? study = p.GetValue(studyOption);
            var spec = await ExistingSpec(cluster, name);
            // A study of another sweep is refused up front; the study is held while the sweep is followed.
            using var hold = study is null ? null : StudyDirectory.Lock(study = StudyDirectory.Prepare(study, spec, out _));
            var writer = study is null ? null : await StudyWriter.OpenAsync(cluster.Client, name, study, token);
            var view = new SweepProgressView(console, cluster.Client, !p.GetValue(plain) && console.Profile.Capabilities.Interactive);
            var final = await view.FollowAsync(spec, writer?.Mirror ?? new SweepMirror(name),
                writer is null ? null : added => writer.Record(added, final: false), token);
            int failed = view.Summarize(final.Spec ?? spec, final);
            if (writer is not null)
            {
                await writer.UpdateAsync(withReport: true, token, withTensorBoard: true);
                console.MarkupLineInterpolated($"Study: {writer.Directory} (`orleans-sweep report {writer.Directory}`, `orleans-sweep verify {writer.Directory}`).");
            }
            return final.State == SweepState.Cancelled ? ExitCodes.Cancelled : failed > 0 ? ExitCodes.TrialsFailed : ExitCodes.Ok;
        }));

        var pull = WithCluster(new Command("pull", "Write a cluster sweep's study directory (spec, results, grids, report), or bring it up to date: only " +
                                                   "results recorded since the last pull are fetched, and nothing new changes no file.\n\n" +
                                                   "Example: orleans-sweep pull quickstart --study studies/quickstart && orleans-sweep verify studies/quickstart")
        {
            sweep, studyOption,
        });
        pull.SetAction((p, token) => guard(async () =>
        {
            await using var cluster = await ClusterConnection.ConnectAsync(Connection(p), token);
            string name = p.GetValue(sweep)!;
            var pulled = await StudyWriter.PullAsync(cluster.Client, name, p.GetValue(studyOption) ?? StudyDirectory.DefaultFor(name), token);
            if (pulled.Changed)
                console.MarkupLineInterpolated($"Pulled {pulled.Added} new result(s) of sweep {name} ({pulled.State}, {pulled.Finished}/{pulled.Total} trials finished) into {pulled.Directory}{(pulled.TensorBoardBytes > 0 ? $", and {pulled.TensorBoardBytes} bytes of TensorBoard event files" : "")}.");
            else
                console.MarkupLineInterpolated($"Nothing new: {pulled.Directory} holds every result of sweep {name} ({pulled.State}, {pulled.Finished}/{pulled.Total} trials finished).");
            return ExitCodes.Ok;
        }));

        var status = WithCluster(new Command("status", "One look at a sweep: state, counts, grids.\n\nExample: orleans-sweep status quickstart --json") { sweep, json });
        status.SetAction((p, token) => guard(async () =>
        {
            await using var cluster = await ClusterConnection.ConnectAsync(Connection(p), token);
            var snapshot = await Existing(cluster, p.GetValue(sweep)!);
            if (p.GetValue(json))
            {
                console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(new
                {
                    name = snapshot.Name, state = snapshot.State.ToString().ToLowerInvariant(), totalTrials = snapshot.TotalTrials,
                    statuses = snapshot.Statuses.Values.GroupBy(s => s.ToString().ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Count()),
                    running = snapshot.Running,
                    results = snapshot.Results.Values,
                }, SweepSpecLoader.JsonOptions));
                return ExitCodes.Ok;
            }
            string counts = string.Join(", ", snapshot.Statuses.Values.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
            console.MarkupLineInterpolated($"Sweep [bold]{snapshot.Name}[/]: {snapshot.State.ToString().ToLowerInvariant()}, {counts}");
            foreach (var table in ResultTables.Render(ResultGrid.Build(snapshot.Spec!, snapshot.Results))) console.Write(table);
            return ExitCodes.Ok;
        }));

        var list = WithCluster(new Command("list", "List the sweeps of a cluster: name, state, finished/total trials.\n\n" +
                                                  "Example: orleans-sweep list --json") { json });
        list.SetAction((p, token) => guard(async () =>
        {
            await using var cluster = await ClusterConnection.ConnectAsync(Connection(p), token);
            var rows = new List<(string Name, SweepSnapshot Snapshot)>();
            foreach (string name in await cluster.Client.ListAsync()) rows.Add((name, await cluster.Client.GetSnapshotAsync(name)));
            if (p.GetValue(json))
                console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(rows.Select(r => new
                {
                    name = r.Name, state = r.Snapshot.State.ToString().ToLowerInvariant(), finished = r.Snapshot.Finished, total = r.Snapshot.TotalTrials,
                }), SweepSpecLoader.JsonOptions));
            else
                foreach (var (name, snapshot) in rows)
                    console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}\t{snapshot.State.ToString().ToLowerInvariant()}\t{snapshot.Finished}/{snapshot.TotalTrials}"));
            return ExitCodes.Ok;
        }));

        Command Control(string name, string description, Func<OrleansSweep.Client.SweepClient, string, CancellationToken, Task> act)
        {
            var command = WithCluster(new Command(name, description) { sweep });
            command.SetAction((p, token) => guard(async () =>
            {
                await using var cluster = await ClusterConnection.ConnectAsync(Connection(p), token);
                string target = p.GetValue(sweep)!;
                await Existing(cluster, target);
                await act(cluster.Client, target, token);
                var after = await cluster.Client.GetSnapshotAsync(target);
                console.MarkupLineInterpolated($"Sweep [bold]{target}[/]: {after.State.ToString().ToLowerInvariant()}.");
                return ExitCodes.Ok;
            }));
            return command;
        }

        var silo = WithCluster(new Command("silo", "Run a cluster silo in this process until Ctrl-C (see also hosting/).\n\n" +
                                                   "Example: orleans-sweep silo --device cpu --slots 2 --silo-port 11111 --gateway-port 30000"));
        // Each flag is a configuration key of the silo host (OrleansSweep:<Key>), bound by the same code: a flag not
        // given leaves the key unset, so the defaults live in one place (ClusterSiloOptions, DeviceOptions).
        var defaults = new ClusterSiloOptions();
        var device = new Option<string[]>("--device")
        {
            Description = $"Device(s) to train on: {Core.Devices.DeviceName.Expected} (repeatable; default {DeviceOptions.DefaultDevice})",
            AllowMultipleArgumentsPerToken = true,
        };
        var coordinator = new Option<bool>("--coordinator-only") { Description = "No devices: host sweeps, never trials" };
        var allowCpuFallback = new Option<bool>("--allow-cpu-fallback") { Description = "Start even when a --device cuda:N is not usable here; its trials then train on the CPU" };
        var slots = new Option<int?>("--slots") { Description = "Trials sharing one device (default: a CPU's cores / threads per trial, bounded by memory; a GPU: as many as fit at its first trial's measured memory, at most 8)" };
        var threads = new Option<int?>("--threads") { Description = "Intra-op threads of a trial whose spec sets no training.threads (default 1 with automatic slots, else cores / slots)" };
        var batchPerSlot = new Option<int?>("--batch-per-slot") { Description = "Packing: a trial of batch m takes ceil(m / this) slots" };
        var siloPort = new Option<int?>("--silo-port") { Description = $"Silo-to-silo port (default {defaults.SiloPort})" };
        var gatewayPort = new Option<int?>("--gateway-port") { Description = $"Port clients connect to (default {defaults.GatewayPort})" };
        var address = new Option<string?>("--address") { Description = $"Address to bind and advertise (default {defaults.Address}: loopback)" };
        var artifacts = new Option<string?>("--artifacts") { Description = $"Checkpoint directory every silo reaches (default {defaults.ArtifactRoot})" };
        var dashboardPort = new Option<int?>("--dashboard-port") { Description = $"Port of the Orleans Dashboard on this silo; 0: none (default {defaults.DashboardPort})" };
        var dashboardAddress = new Option<string?>("--dashboard-address") { Description = $"Address the dashboard listens on (default {defaults.DashboardAddress}: loopback)" };
        var metricsPort = new Option<int?>("--metrics-port") { Description = $"Port of this silo's Prometheus scrape endpoint (/metrics); 0: none (default {MetricsOptions.DefaultClusterPort})" };
        var metricsAddress = new Option<string?>("--metrics-address") { Description = "Address the metrics endpoint listens on (default 127.0.0.1: loopback)" };
        var otlpEndpoint = new Option<string?>("--otlp-endpoint") { Description = "Also push metrics to this OpenTelemetry collector (OTLP), e.g. http://collector:4317" };
        var dataRoot = new Option<string[]>("--data-root")
        {
            Description = $"Directory submitted specs may read datasets from (repeatable; replaces the default {string.Join(", ", defaults.DataRoots)}); others are refused",
            AllowMultipleArgumentsPerToken = true,
        };
        var leaseSeconds = new Option<int?>("--lease-seconds")
        {
            Description = $"Seconds without a heartbeat before a running trial is presumed lost and re-dispatched (default {defaults.LeaseSeconds})",
        };
        var flags = new SettingFlags(ClusterSiloOptions.Section,
        [
            (device, nameof(DeviceOptions.Devices)), (coordinator, nameof(DeviceOptions.CoordinatorOnly)),
            (allowCpuFallback, nameof(DeviceOptions.AllowCpuFallback)), (slots, nameof(DeviceOptions.SlotsPerDevice)),
            (threads, nameof(DeviceOptions.ThreadsPerTrial)), (batchPerSlot, nameof(DeviceOptions.BatchPerSlot)),
            (siloPort, nameof(ClusterSiloOptions.SiloPort)), (gatewayPort, nameof(ClusterSiloOptions.GatewayPort)),
            (address, nameof(ClusterSiloOptions.Address)), (artifacts, nameof(ClusterSiloOptions.ArtifactRoot)),
            (dashboardPort, nameof(ClusterSiloOptions.DashboardPort)), (dashboardAddress, nameof(ClusterSiloOptions.DashboardAddress)),
            (metricsPort, nameof(MetricsOptions.MetricsPort)), (metricsAddress, nameof(MetricsOptions.MetricsAddress)),
            (otlpEndpoint, nameof(MetricsOptions.OtlpEndpoint)),
            (dataRoot, nameof(ClusterSiloOptions.DataRoots)), (leaseSeconds, nameof(ClusterSiloOptions.LeaseSeconds)),
            (redis, nameof(ClusterSiloOptions.Redis)), (clusterId, nameof(ClusterSiloOptions.ClusterId)),
            (serviceId, nameof(ClusterSiloOptions.ServiceId)), (tlsCertificate, nameof(ClusterSiloOptions.TlsCertificate)),
        ]);
        foreach (var flag in flags.Options) if (!silo.Options.Contains(flag)) silo.Add(flag);
        silo.SetAction((p, token) => guard(async () =>
        {
            var configuration = flags.Configuration(p);
            // The settings and the ports/Redis they point at, checked before starting, each named by its flag.
            await SiloPreflight.CheckAsync(configuration, flags.FlagOf);
            var options = ClusterSiloOptions.From(configuration);
            var devices = DeviceOptions.From(configuration).TrainingDevices;
            using var host = ClusterSiloHost.Build(configuration, logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
                .AddFilter("Orleans", LogLevel.Error).AddFilter("OrleansSweep", LogLevel.Information));
            await host.StartAsync(token);
            string dashboard = options.DashboardPort == 0 ? "" : $" Dashboard: http://{options.DashboardAddress}:{options.DashboardPort}/.";
            string tls = options.TlsCertificate is null ? "" : " Connections: mutual TLS.";
            if (MetricsOptions.From(configuration).ScrapeUrl is { } scrape) dashboard += $" Metrics: {scrape}.";
            console.MarkupLineInterpolated($"Silo {options.Address}:{options.SiloPort} (gateway {options.GatewayPort}) joined cluster '{options.ClusterId}' via Redis {options.Redis}; devices: {(devices.Count == 0 ? "none (coordinator)" : string.Join(", ", devices))}.{dashboard}{tls} Ctrl-C stops it.");
            try { await Task.Delay(Timeout.Infinite, token); } catch (OperationCanceledException) { }
            await host.StopAsync(CancellationToken.None); // graceful: running trials stop at a step and are handed back
            return ExitCodes.Ok;
        }));

        return [silo, submit, watch, pull, status, list,
            Control("pause", "Pause a sweep: running trials stop at a step (checkpoints kept).\n\nExample: orleans-sweep pause quickstart",
                (c, s, t) => c.PauseAsync(s, t)),
            Control("cancel", "Cancel a sweep (checkpoints kept; it can be resumed).\n\nExample: orleans-sweep cancel quickstart",
                (c, s, t) => c.CancelAsync(s, t)),
            Control("continue", "Resume a paused or cancelled sweep on the cluster.\n\nExample: orleans-sweep continue quickstart",
                async (c, s, t) => await c.ResumeAsync(s, t))];
    }

    /// <summary>The sweep's spec, from a look that transfers no results.</summary>
    private static async Task<SweepSpec> ExistingSpec(ClusterConnection cluster, string name) =>
        (await cluster.Client.GetChangesAsync(name, long.MaxValue, null, 1)).Spec
        ?? throw new UsageException($"no sweep named '{name}' on this cluster (`orleans-sweep list` shows them).");

    private static async Task<SweepSnapshot> Existing(ClusterConnection cluster, string name)
    {
        var snapshot = await cluster.Client.GetSnapshotAsync(name);
        if (snapshot.Spec is null) throw new UsageException($"no sweep named '{name}' on this cluster (`orleans-sweep list` shows them).");
        return snapshot;
    }
}
