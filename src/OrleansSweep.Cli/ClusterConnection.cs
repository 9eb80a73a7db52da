using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Hosting;

namespace OrleansSweep.Cli;

/// <summary>A client connected to a running cluster (Redis membership), for submit/watch/status/list/pause/cancel.</summary>
public sealed partial class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host) => _host = host;

    public SweepClient Client => _host.Services.GetRequiredService<SweepClient>();

    /// <param name="TlsCertificate">PKCS#12 file of the cluster's TLS certificate (null: plain TCP); see <see cref="ClusterTls"/>.</param>
    public sealed record Settings(string Redis, string ClusterId, string ServiceId, string? TlsCertificate = null);

    public static async Task<ClusterConnection> ConnectAsync(Settings settings, CancellationToken cancellation)
    {
        if (settings.TlsCertificate is { } path) ClusterTls.Load(path).Dispose(); // a bad certificate file is named before anything else
        // Redis first: "Redis is not running" and "no silo is up" need different fixes, and Orleans tells them apart late.
        await RedisProbe.EnsureReachableAsync(settings.Redis, "--redis");
        var retry = new GatewayConnectRetry(GatewayRetryWindow);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client
            .AddOrleansSweepClient(o => (o.Redis, o.ClusterId, o.ServiceId, o.TlsCertificate) = (settings.Redis, settings.ClusterId, settings.ServiceId, settings.TlsCertificate))
            .Services.AddSingleton<IClientConnectionRetryFilter>(retry));
        var host = builder.Build();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await host.StartAsync(timeout.Token);
            return new ClusterConnection(host);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            host.Dispose();
            throw new ClusterUnavailableException(Describe(settings, retry.LastFailure ?? e, settings.TlsCertificate is not null));
        }
    }

    /// <summary>How long a first connection keeps retrying (a silo starting up registers well within it).</summary>
    private static readonly TimeSpan GatewayRetryWindow = TimeSpan.FromSeconds(5);

    private static string Describe(Settings settings, Exception failure, bool usesTls)
    {
        string cluster = $"cluster '{settings.ClusterId}'";
        if (failure is SiloUnavailableException && failure.Message.Contains("gateway", StringComparison.OrdinalIgnoreCase))
            return $"no silo of {cluster} is registered in Redis at {settings.Redis} (start one with `orleans-sweep silo`; " +
                   "--cluster-id and --service-id must be the silos').";
        // A gateway that drops the connection (a TLS mismatch looks the same from here) or does not answer. Orleans'
        // own "will retry after ..." is not true any more by the time the user reads it.
        string reason = RetryNote().Replace(failure.GetBaseException().Message, "");
        return $"cannot reach {cluster} through Redis at {settings.Redis}: {reason} " +
               "(is at least one silo running? `orleans-sweep silo` starts one" +
               (usesTls ? "; does the cluster use this TLS certificate?)." : "; a cluster using TLS needs --tls-certificate).");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@",? will retry after [0-9.]+ ?m?s")]
    private static partial System.Text.RegularExpressions.Regex RetryNote();

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _host.StopAsync(timeout.Token); } catch (OperationCanceledException) { }
        _host.Dispose();
    }
}
