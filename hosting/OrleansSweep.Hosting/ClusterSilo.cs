using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Dashboard;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Devices;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Grains;

namespace OrleansSweep.Hosting;

/// <summary>How one silo of a cluster is configured (section "OrleansSweep" of appsettings, environment, command line).</summary>
public sealed class ClusterSiloOptions
{
    public const string Section = "OrleansSweep";

    public string ClusterId { get; set; } = "orleans-sweep";
    public string ServiceId { get; set; } = "orleans-sweep";
    /// <summary>StackExchange.Redis configuration string: membership, sweep state and reminders.</summary>
    public string Redis { get; set; } = "127.0.0.1:6379";
    /// <summary>
    /// Devices this silo trains on ("cpu", "cuda:0", ...); empty: a coordinator only. Configured devices replace this
    /// default (<see cref="From"/>); they are not added to it.
    /// </summary>
    public List<string> Devices { get; set; } = [.. DefaultDevices];
    /// <summary>
    /// A silo that hosts sweeps but never trials, whatever <see cref="Devices"/> says (a shipped appsettings.json lists
    /// "cpu"; the environment overriding it cannot empty a list): the way to say "no devices" anywhere.
    /// </summary>
    public bool CoordinatorOnly { get; set; }

    /// <summary>The devices this silo trains on: none for a coordinator.</summary>
    public IReadOnlyList<string> TrainingDevices => CoordinatorOnly ? [] : Devices;
    /// <summary>
    /// A configured cuda:N that this build or machine cannot use is refused at start (preflight) unless this is true;
    /// then its trials train on the CPU and each result says so. A GPU node quietly training on its CPU is a slow node
    /// nobody asked for.
    /// </summary>
    public bool AllowCpuFallback { get; set; }
    public int SlotsPerDevice { get; set; } = 1;
    /// <summary>Packing: a trial of batch m takes ceil(m / BatchPerSlot) slots (see DeviceOptions.BatchPerSlot).</summary>
    public int? BatchPerSlot { get; set; }
    public int? ThreadsPerTrial { get; set; }
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    /// <summary>Address this silo binds and advertises. Loopback unless configured: a silo is not exposed by accident.</summary>
    public string Address { get; set; } = "127.0.0.1";
    /// <summary>Checkpoints and final weights: a directory every silo reaches (a shared file system in a real cluster).</summary>
    public string ArtifactRoot { get; set; } = "artifacts";
    /// <summary>
    /// Directories a submitted spec's dataset.path must lie in (after resolving "..", links): specs come from clients,
    /// and must not make silos read elsewhere. The dataset packages' system location is always allowed.
    /// </summary>
    public string[] DataRoots { get; set; } = [.. DefaultDataRoots];

    public static readonly IReadOnlyList<string> DefaultDevices = ["cpu"];
    public static readonly IReadOnlyList<string> DefaultDataRoots = ["/usr/share/datasets"];
    /// <summary>
    /// Seconds without progress or heartbeat after which a running trial is presumed lost (its silo died) and
    /// re-dispatched from its checkpoint; heartbeats come every sixth of it. Shorter: faster recovery, more messages.
    /// </summary>
    public int LeaseSeconds { get; set; } = 60;
    /// <summary>
    /// Running as a Kubernetes pod: Orleans' Kubernetes hosting takes the silo name, pod IP (listening on all
    /// addresses of the pod), cluster and service ids from the pod, and marks silos whose pods are gone as dead.
    /// </summary>
    public bool Kubernetes { get; set; }
    /// <summary>Port of the Orleans Dashboard's web page on this silo; 0: not served here (statistics are still collected).</summary>
    public int DashboardPort { get; set; } = 8080;
    /// <summary>Address the dashboard listens on. Loopback unless configured: it has no authentication of its own.</summary>
    public string DashboardAddress { get; set; } = "127.0.0.1";
    /// <summary>
    /// PKCS#12 file of the cluster's TLS certificate: when set, silo-to-silo and client connections use mutual TLS
    /// (<see cref="ClusterTls"/>); its password comes from ORLEANS_SWEEP_TLS_PASSWORD. Null: plain TCP.
    /// </summary>
    public string? TlsCertificate { get; set; }

    /// <summary>
    /// Every setting checked in one place; the message names the setting — as <paramref name="settingName"/> spells it
    /// for the caller (the CLI: "--lease-seconds"), by default the configuration key ("OrleansSweep:LeaseSeconds").
    /// </summary>
    public void Validate(Func<string, string>? settingName = null)
    {
        settingName ??= ConfigurationKey;
        foreach (string device in TrainingDevices)
            if (!DeviceName.TryParse(device, out _))
                throw new ClusterSettingException($"{settingName(nameof(Devices))}: '{device}' is not a device (expected {DeviceName.Expected}).");
        if (SlotsPerDevice < 1)
            throw new ClusterSettingException($"{settingName(nameof(SlotsPerDevice))}: {SlotsPerDevice} (expected at least 1).");
        if (ThreadsPerTrial is < 1)
            throw new ClusterSettingException($"{settingName(nameof(ThreadsPerTrial))}: {ThreadsPerTrial} (expected at least 1, or unset for cores / slots).");
        if (BatchPerSlot is < 1)
            throw new ClusterSettingException($"{settingName(nameof(BatchPerSlot))}: {BatchPerSlot} (expected at least 1, or unset).");
        if (!IPAddress.TryParse(Address, out _))
            throw new ClusterSettingException($"{settingName(nameof(Address))}: '{Address}' is not an IP address.");
        if (LeaseSeconds < 3)
            throw new ClusterSettingException($"{settingName(nameof(LeaseSeconds))}: {LeaseSeconds} (expected at least 3 seconds).");
        if (DashboardPort != 0 && !IPAddress.TryParse(DashboardAddress, out _))
            throw new ClusterSettingException($"{settingName(nameof(DashboardAddress))}: '{DashboardAddress}' is not an IP address.");
        if (DashboardPort is < 0 or > 65535)
            throw new ClusterSettingException($"{settingName(nameof(DashboardPort))}: {DashboardPort} is not a port (expected 1..65535, or 0 for none).");
    }

    /// <summary>"OrleansSweep:SiloPort": how appsettings, environment and the silo host's command line name a setting.</summary>
    public static string ConfigurationKey(string property) => $"{Section}:{property}";

    /// <summary>
    /// The options as configured. The binder appends configured list items to a list's initial items, so lists are
    /// bound into empty ones and get their defaults only when the configuration does not name them at all: configured
    /// devices and data roots replace the defaults. `"Devices": []` in a JSON file names the key (it reaches the
    /// configuration as a key without a value) and so means "no devices"; <see cref="CoordinatorOnly"/> says the same
    /// where a list cannot be empty.
    /// </summary>
    public static ClusterSiloOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var options = new ClusterSiloOptions { Devices = [], DataRoots = [] };
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException e) // the binder's "Failed to convert configuration value 'abc' at 'OrleansSweep:SiloPort' ..."
        {
            throw new ClusterSettingException(e.Message);
        }
        var named = section.GetChildren().Select(c => c.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (!options.CoordinatorOnly && !named.Contains(nameof(Devices))) options.Devices = [.. DefaultDevices];
        if (!named.Contains(nameof(DataRoots))) options.DataRoots = [.. DefaultDataRoots];
        return options;
    }
}

public static class ClusterSilo
{
    /// <summary>A cluster silo: Redis membership/state/reminders, the sweep engine, its devices and artifact root.</summary>
    public static IHostApplicationBuilder AddOrleansSweepClusterSilo(this IHostApplicationBuilder builder, ClusterSiloOptions options)
    {
        options.Validate();
        var address = IPAddress.Parse(options.Address);
        var tls = options.TlsCertificate is { } certificatePath ? ClusterTls.Load(certificatePath) : null;
        builder.UseOrleans(silo =>
        {
            if (options.Kubernetes)
            {
                silo.Configure<EndpointOptions>(o => { o.SiloPort = options.SiloPort; o.GatewayPort = options.GatewayPort; });
                silo.UseKubernetesHosting();
            }
            else
            {
                silo.Configure<ClusterOptions>(o => { o.ClusterId = options.ClusterId; o.ServiceId = options.ServiceId; });
                silo.ConfigureEndpoints(address, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
            }
            if (tls is not null) silo.UseTls(tls, o => ClusterTls.Configure(o, tls));
            // After the whole cluster has crashed (power loss, kill -9 of every silo) the membership table still lists
            // the dead silos as active; a starting silo waits until their last "I am alive" is this stale (45 s here,
            // 10 min by Orleans' default) before treating them as dead and joining.
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(15);
                o.NumMissedTableIAmAliveLimit = 3;
            });
            silo.UseOrleansSweepRedis(options.Redis);
            // Every silo collects the dashboard's statistics (its grains live on all of them); the page is served
            // by the silos with a DashboardPort (ClusterSiloHost).
            silo.AddDashboard();
            silo.AddOrleansSweep(
                d =>
                {
                    d.Devices = [.. options.TrainingDevices]; d.SlotsPerDevice = options.SlotsPerDevice;
                    d.ThreadsPerTrial = options.ThreadsPerTrial; d.BatchPerSlot = options.BatchPerSlot;
                },
                sweeps: s =>
                {
                    s.LeaseDuration = TimeSpan.FromSeconds(options.LeaseSeconds);
                    s.HeartbeatInterval = TimeSpan.FromSeconds(options.LeaseSeconds / 6.0);
                },
                artifacts: a =>
                {
                    a.Root = Path.GetFullPath(options.ArtifactRoot);
                    a.PerSweep = true;
                    a.DataRoots = options.DataRoots.Select(Path.GetFullPath).ToList();
                });
        });
        return builder;
    }
}
