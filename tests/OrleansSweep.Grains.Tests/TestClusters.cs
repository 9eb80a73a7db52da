using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Hosting;
using Orleans.TestingHost;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Trials;
using OrleansSweep.Hosting;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.Grains;

namespace OrleansSweep.Grains.Tests;

/// <summary>In-process Orleans clusters running the real grains, with short leases and back-offs so faults resolve quickly.</summary>
public static class TestClusters
{
    public const string CoordinatorName = "Silo_0";

    /// <param name="silos">How many silos.</param>
    /// <param name="coordinatorHasDevices">Whether Silo_0 trains too; the other silos always do.</param>
    /// <param name="stateFile">SQLite state shared by all silos (survives a killed silo); null: memory.</param>
    /// <param name="artifactRoot">Checkpoints shared by all silos; null: none.</param>
    /// <param name="services">Extra silo services, e.g. a test double for the trial executor.</param>
    /// <param name="redis">Cluster mode: state and reminders in this Redis (membership stays the test cluster's own).</param>
    /// <param name="serviceId">Orleans service id: the same one sees the same Redis state across clusters.</param>
    /// <param name="leaseDuration">How long a trial's lease lasts without a heartbeat. Short (2 s) only where a test needs a
    /// lost silo's trials back quickly: under a loaded 2-core CI machine a 2 s lease can expire on a live silo, and a
    /// retried trial would break a test that counts attempts.</param>
    public static async Task<InProcessTestCluster> StartAsync(int silos = 1, bool coordinatorHasDevices = true, string? stateFile = null,
        string? artifactRoot = null, Action<IServiceCollection>? services = null, int slotsPerDevice = 2, string? redis = null,
        string? serviceId = null, TimeSpan? leaseDuration = null)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        if (serviceId is not null) builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((options, silo) =>
        {
            if (redis is not null)
            {
                silo.UseOrleansSweepRedis(redis, clustering: false);
                silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            }
            else if (stateFile is null) silo.AddMemoryGrainStorage(SweepOptions.StorageName);
            else silo.AddSqliteGrainStorage(SweepOptions.StorageName, stateFile);
            bool devices = coordinatorHasDevices || options.SiloName != CoordinatorName;
            silo.AddOrleansSweep(
                d => { d.Devices = devices ? ["cpu"] : []; d.SlotsPerDevice = slotsPerDevice; d.ThreadsPerTrial = 1; },
                s =>
                {
                    s.DefaultMaxConcurrentTrials = 2;
                    s.LeaseDuration = leaseDuration ?? TimeSpan.FromSeconds(15);
                    s.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
                    s.Retry = new RetryBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), MaxAttempts: 3);
                    s.ReminderPeriod = TimeSpan.FromSeconds(2);
                },
                a => a.Root = artifactRoot);
            services?.Invoke(silo.Services);
        });
        builder.ConfigureClient(client => client.Services.AddSerializer(s => s.AddOrleansSweepSerializers()));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>Starts the sweep and watches it to its end (bounded in time).</summary>
    public static async Task<SweepSnapshot> RunToEndAsync(this InProcessTestCluster cluster, Core.Specs.SweepSpec spec, TimeSpan? limit = null)
    {
        var client = new SweepClient(cluster.Client);
        await client.StartAsync(spec);
        return await client.WatchToEndAsync(spec.Name, limit);
    }

    /// <summary>Waits (bounded) until some running trial has finished an epoch, and returns its progress.</summary>
    public static async Task<TrialProgress> FirstEpochDoneAsync(this SweepClient client, string sweep)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            if ((await client.GetSnapshotAsync(sweep)).Running.FirstOrDefault(r => r.EpochsDone >= 1) is { } progressed) return progressed;
            await Task.Delay(50);
        }
        throw new TimeoutException($"no trial of sweep '{sweep}' finished an epoch within a minute.");
    }

    public static async Task<SweepSnapshot> WatchToEndAsync(this SweepClient client, string sweep, TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromMinutes(3));
        SweepSnapshot last = null!;
        await foreach (var snapshot in client.WatchAsync(sweep, TimeSpan.FromMilliseconds(100), timeout.Token)) last = snapshot;
        return last;
    }
}
