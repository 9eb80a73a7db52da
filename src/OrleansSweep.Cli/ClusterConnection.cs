using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Serialization;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;

namespace OrleansSweep.Cli;

/// <summary>A client connected to a running cluster (Redis membership), for submit/watch/status/list/pause/cancel.</summary>
public sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host) => _host = host;

    public SweepClient Client => new(_host.Services.GetRequiredService<IClusterClient>());

    /// <param name="TlsCertificate">PKCS#12 file of the cluster's TLS certificate (null: plain TCP); see <see cref="ClusterTls"/>.</param>
    public sealed record Settings(string Redis, string ClusterId, string ServiceId, string? TlsCertificate = null);

    public static async Task<ClusterConnection> ConnectAsync(Settings settings, CancellationToken cancellation)
    {
        var tls = settings.TlsCertificate is { } path ? ClusterTls.Load(path) : null;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => { o.ClusterId = settings.ClusterId; o.ServiceId = settings.ServiceId; });
            client.UseRedisClustering(settings.Redis);
            if (tls is not null) client.UseTls(tls, o => ClusterTls.Configure(o, tls));
            client.Services.AddSerializer(s => s.AddOrleansSweepSerializers());
        });
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
            throw new ClusterUnavailableException(
                $"cannot reach cluster '{settings.ClusterId}' through Redis at {settings.Redis}: {e.GetBaseException().Message} " +
                "(is Redis running, and at least one silo? `orleans-sweep silo` starts one" +
                (tls is null ? "; a cluster using TLS needs --tls-certificate)." : "; does the cluster use this TLS certificate?)."));
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _host.StopAsync(timeout.Token); } catch (OperationCanceledException) { }
        _host.Dispose();
    }
}
