using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.TestingHost;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Grains.Hosting;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Grains.Tests;

/// <summary>An in-process Orleans test cluster running the real grains and trainer, with generated data.</summary>
public sealed class SweepClusterFixture : IAsyncLifetime
{
    private readonly TemporaryDirectory _data = new("orleans-sweep-grains");
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public SweepClient Client => new(Cluster.Client);
    public string DataDirectory => _data.Path;

    public async Task InitializeAsync()
    {
        SyntheticFashion.Write(_data.Path, trainCount: 512, testCount: 100);
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(SweepOptions.StorageName);
            silo.AddOrleansSweep(d => { d.Devices = ["cpu"]; d.SlotsPerDevice = 2; d.ThreadsPerTrial = 1; },
                s => s.DefaultMaxConcurrentTrials = 2);
        });
        builder.ConfigureClient(client => client.Services.AddSerializer(s => s.AddOrleansSweepSerializers()));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        _data.Dispose();
    }
}
