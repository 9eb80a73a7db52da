using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OrleansSweep.Client;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Grains.Hosting;
using OrleansSweep.Grains.Sweeps;

namespace OrleansSweep.Cli;

/// <summary>A silo and its client in this process, on loopback ports of its own: the laptop mode.</summary>
public sealed class EmbeddedCluster : IAsyncDisposable
{
    private readonly IHost _host;

    public const string StateFileName = "state.db";

    private EmbeddedCluster(IHost host) => _host = host;

    public SweepClient Client => new(_host.Services.GetRequiredService<IGrainFactory>());

    public static async Task<EmbeddedCluster> StartAsync(DeviceOptions devices, string studyDirectory, CancellationToken cancellation)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.IncludeScopes = false; o.TimestampFormat = null; })
            .Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        // Orleans narrates its life at Information/Warning; the user only needs its errors. Ours say what we did.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        builder.Logging.AddFilter("Microsoft", LogLevel.Error);
        builder.Logging.AddFilter("OrleansSweep", LogLevel.Information);

        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: LoopbackPorts.Free(), gatewayPort: LoopbackPorts.Free());
            // Durable: a killed or interrupted run resumes from here (see `orleans-sweep resume`).
            silo.AddSqliteGrainStorage(SweepOptions.StorageName, Path.Combine(studyDirectory, StateFileName));
            silo.AddOrleansSweep(d =>
            {
                d.Devices = devices.Devices;
                d.SlotsPerDevice = devices.SlotsPerDevice;
                d.ThreadsPerTrial = devices.ThreadsPerTrial;
                d.BatchPerSlot = devices.BatchPerSlot;
            }, s => s.DefaultMaxConcurrentTrials = devices.TotalSlots, a => a.Root = studyDirectory);
        });
        var host = builder.Build();
        await host.StartAsync(cancellation);
        return new EmbeddedCluster(host);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await _host.StopAsync(timeout.Token); }
        catch (OperationCanceledException) { }
        _host.Dispose();
    }
}
