using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Dashboard;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Devices;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Grains;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.Grains.Trials;

namespace OrleansSweep.Hosting;

/// <summary>How one silo of a cluster is configured (section "OrleansSweep" of appsettings, environment, command line).</summary>
public sealed class ClusterSiloOptions
{
    public const string Section = "OrleansSweep";

    public string ClusterId { get; set; } = "orleans-sweep";
    public string ServiceId { get; set; } = "orleans-sweep";
    /// <summary>StackExchange.Redis configuration string: membership, sweep state and reminders.</summary>
    public string Redis { get; set; } = "127.0.0.1:6379";
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
    public string[] DataRoots { get; set; } = [];

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
    /// The first cluster setting that is wrong, named as <paramref name="settingName"/> spells it for the caller (the CLI:
    /// "--lease-seconds"; by default the configuration key "OrleansSweep:LeaseSeconds"), or null. The device settings of
    /// the same section are <see cref="DeviceOptions"/>' own.
    /// </summary>
    public string? Problem(Func<string, string>? settingName = null)
    {
        settingName ??= ConfigurationKey;
        if (!IPAddress.TryParse(Address, out _))
            return $"{settingName(nameof(Address))}: '{Address}' is not an IP address.";
        if (LeaseSeconds < 3)
            return $"{settingName(nameof(LeaseSeconds))}: {LeaseSeconds} (expected at least 3 seconds).";
        if (DashboardPort != 0 && !IPAddress.TryParse(DashboardAddress, out _))
            return $"{settingName(nameof(DashboardAddress))}: '{DashboardAddress}' is not an IP address.";
        if (DashboardPort is < 0 or > 65535)
            return $"{settingName(nameof(DashboardPort))}: {DashboardPort} is not a port (expected 1..65535, or 0 for none).";
        return null;
    }

    /// <summary>Throws <see cref="ClusterSettingException"/> naming the first setting that is wrong.</summary>
    public void Validate(Func<string, string>? settingName = null)
    {
        if (Problem(settingName) is { } problem) throw new ClusterSettingException(problem);
    }

    /// <summary>"OrleansSweep:SiloPort": how appsettings, environment and the silo host's command line name a setting.</summary>
    public static string ConfigurationKey(string property) => $"{Section}:{property}";

    /// <summary>
    /// The options as configured: the binding the host's services use too (<see cref="ClusterSilo"/>), read here for the
    /// decisions made before the services exist (ports, TLS, clustering).
    /// </summary>
    public static ClusterSiloOptions From(IConfiguration configuration)
    {
        var options = new ClusterSiloOptions();
        try
        {
            configuration.GetSection(Section).Bind(options);
        }
        catch (InvalidOperationException e) // the binder's "Failed to convert configuration value 'abc' at 'OrleansSweep:SiloPort' ..."
        {
            throw new ClusterSettingException(e.Message);
        }
        options.ApplyDefaults(configuration);
        return options;
    }

    /// <summary>
    /// The binder appends configured list items to a list's initial items, so <see cref="DataRoots"/> starts empty and
    /// gets its default only when the configuration does not name it: configured data roots replace the default.
    /// </summary>
    public void ApplyDefaults(IConfiguration configuration)
    {
        bool named = configuration.GetSection(Section).GetChildren().Any(c => string.Equals(c.Key, nameof(DataRoots), StringComparison.OrdinalIgnoreCase));
        if (!named && DataRoots.Length == 0) DataRoots = [.. DefaultDataRoots];
    }
}

/// <summary>Checks the bound cluster options when the host starts (<c>ValidateOnStart</c>).</summary>
public sealed class ClusterSiloOptionsValidator : IValidateOptions<ClusterSiloOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterSiloOptions options) =>
        options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}

public static class ClusterSilo
{
    /// <summary>
    /// A cluster silo configured from <paramref name="builder"/>'s configuration (section "OrleansSweep"): Redis
    /// membership/state/reminders, the sweep engine, its devices and artifact root. The options are bound once
    /// (<see cref="ClusterSiloOptions"/> and <see cref="DeviceOptions"/>, each with a validator run at start), and this is
    /// the one place where the cluster's settings become the engine's (<see cref="SweepOptions"/>, <see cref="ArtifactOptions"/>).
    /// </summary>
    public static IHostApplicationBuilder AddOrleansSweepClusterSilo(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ClusterSiloOptions>()
            .BindConfiguration(ClusterSiloOptions.Section)
            .PostConfigure<IConfiguration>((o, configuration) => o.ApplyDefaults(configuration))
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterSiloOptions>, ClusterSiloOptionsValidator>());
        builder.Services.AddOptions<SweepOptions>().Configure<IOptions<ClusterSiloOptions>>((s, cluster) =>
        {
            s.LeaseDuration = TimeSpan.FromSeconds(cluster.Value.LeaseSeconds);
            s.HeartbeatInterval = TimeSpan.FromSeconds(cluster.Value.LeaseSeconds / 6.0);
        });
        builder.Services.AddOptions<ArtifactOptions>().Configure<IOptions<ClusterSiloOptions>>((a, cluster) =>
        {
            a.Root = Path.GetFullPath(cluster.Value.ArtifactRoot);
            a.PerSweep = true;
            a.DataRoots = cluster.Value.DataRoots.Select(Path.GetFullPath).ToList();
        });

        // Endpoints, TLS and clustering are chosen before the services exist: the same binding, read once here.
        var options = ClusterSiloOptions.From(builder.Configuration);
        options.Validate();
        DeviceOptions.From(builder.Configuration).Validated();
        var metrics = MetricsOptions.From(builder.Configuration);
        if (metrics.Problem(ClusterSiloOptions.ConfigurationKey) is { } metricsProblem) throw new ClusterSettingException(metricsProblem);
        metrics.AddTo(builder.Services); // Prometheus on loopback:9464 unless configured; OTLP when asked
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
            silo.AddOrleansSweep(); // devices from the same configuration section
        });
        return builder;
    }
}
