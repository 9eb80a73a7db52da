using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OrleansSweep.Client;
using Microsoft.Extensions.Configuration;
using OrleansSweep.Hosting;

namespace OrleansSweep.Cli;

/// <summary>A silo and its client in this process, on loopback ports of its own: the laptop mode.</summary>
public sealed class EmbeddedCluster : IAsyncDisposable
{
    private readonly IHost _host;

    public const string StateFileName = EmbeddedSilo.StateFileName;

    private EmbeddedCluster(IHost host) => _host = host;

    public SweepClient Client => _host.Services.GetRequiredService<SweepClient>();

    /// <param name="settings">The silo's device settings as configuration keys (OrleansSweep:Devices:0, ...; `run`'s flags).</param>
    /// <param name="pagePort">Loopback port of the live sweep page (<see cref="SweepPages"/>); 0: none.</param>
    public static async Task<EmbeddedCluster> StartAsync(IConfiguration settings, string studyDirectory, CancellationToken cancellation, int pagePort = 0)
    {
        var host = EmbeddedHost.Build(pagePort, builder => Configure(builder, settings, studyDirectory));
        await host.StartAsync(cancellation);
        return new EmbeddedCluster(host);
    }

    private static void Configure(IHostApplicationBuilder builder, IConfiguration settings, string studyDirectory)
    {
        builder.Configuration.AddConfiguration(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.IncludeScopes = false; o.TimestampFormat = null; })
            .Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        // Orleans narrates its life at Information/Warning; the user only needs its errors. Ours say what we did.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        builder.Logging.AddFilter("Microsoft", LogLevel.Error);
        builder.Logging.AddFilter("OrleansSweep", LogLevel.Information);

        builder.UseOrleans(silo => silo.UseOrleansSweepEmbedded(studyDirectory));
        MetricsOptions.From(settings).AddTo(builder.Services); // `run --metrics-port`
        builder.Services.AddOrleansSweepClientCalls(); // the co-hosted client: the silo's grain factory, the client's retries
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await _host.StopAsync(timeout.Token); }
        catch (OperationCanceledException) { }
        _host.Dispose();
    }
}
