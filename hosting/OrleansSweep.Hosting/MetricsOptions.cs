using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OrleansSweep.Abstractions;
using OrleansSweep.Grains.Telemetry;

namespace OrleansSweep.Hosting;

/// <summary>
/// Where a silo's metrics go (section "OrleansSweep"): a Prometheus scrape endpoint, <c>http://MetricsAddress:MetricsPort/metrics</c>
/// (loopback unless configured, like the dashboard: it has no authentication; 0: none), and optionally an OpenTelemetry
/// collector over OTLP.
/// </summary>
public sealed class MetricsOptions
{
    /// <summary>The port OpenTelemetry's Prometheus exporter conventionally uses.</summary>
    public const int DefaultClusterPort = 9464;

    public int MetricsPort { get; set; } = DefaultClusterPort;
    public string MetricsAddress { get; set; } = "127.0.0.1";
    /// <summary>An OTLP collector (e.g. http://collector:4317, gRPC; or its /v1/metrics over HTTP); null: none.</summary>
    public string? OtlpEndpoint { get; set; }

    public static MetricsOptions From(IConfiguration configuration)
    {
        var options = new MetricsOptions();
        try { configuration.GetSection(ClusterSiloOptions.Section).Bind(options); }
        catch (InvalidOperationException e) { throw new ClusterSettingException(e.Message); }
        return options;
    }

    /// <summary>The first wrong setting, named as <paramref name="settingName"/> spells it, or null.</summary>
    public string? Problem(Func<string, string> settingName)
    {
        if (MetricsPort is < 0 or > 65535)
            return $"{settingName(nameof(MetricsPort))}: {MetricsPort} is not a port (expected 1..65535, or 0 for none).";
        if (MetricsPort != 0 && !IPAddress.TryParse(MetricsAddress, out _))
            return $"{settingName(nameof(MetricsAddress))}: '{MetricsAddress}' is not an IP address.";
        if (OtlpEndpoint is { } otlp && (!Uri.TryCreate(otlp, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            return $"{settingName(nameof(OtlpEndpoint))}: '{otlp}' is not an http(s) URL (expected e.g. http://collector:4317).";
        return null;
    }

    /// <summary>The scrape URL, e.g. http://127.0.0.1:9464/metrics (IPv6 addresses in brackets); null when none is served.</summary>
    public string? ScrapeUrl => MetricsPort == 0 ? null : $"http://{Host}:{MetricsPort}/metrics";

    private string Host => IPAddress.Parse(MetricsAddress).AddressFamily == AddressFamily.InterNetworkV6 ? $"[{MetricsAddress}]" : MetricsAddress;

    /// <summary>
    /// OpenTelemetry metrics for this silo: the sweep's meter (<see cref="SweepMetrics"/>), Orleans' and Polly's, exported
    /// to Prometheus and/or OTLP as configured; nothing at all when neither is.
    /// </summary>
    public void AddTo(IServiceCollection services)
    {
        if (MetricsPort == 0 && OtlpEndpoint is null) return;
        services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(SweepMetrics.MeterName, "Microsoft.Orleans", "Polly");
            if (MetricsPort != 0)
                metrics.AddPrometheusHttpListener(o =>
                {
                    o.Host = Host;
                    o.Port = MetricsPort;
                    o.ScrapeEndpointPath = "/metrics";
                });
            if (OtlpEndpoint is { } otlp)
                metrics.AddOtlpExporter(o =>
                {
                    o.Endpoint = new Uri(otlp);
                    o.Protocol = new Uri(otlp).AbsolutePath.EndsWith("/v1/metrics", StringComparison.Ordinal) ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                });
        });
    }
}
