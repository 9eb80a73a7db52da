using Orleans.TestingHost;
using OrleansSweep.Client;
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
        Cluster = await TestClusters.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        _data.Dispose();
    }
}
