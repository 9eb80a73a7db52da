using Orleans.TestingHost;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Tests;

public sealed class PlacementTests : IAsyncLifetime
{
    private readonly TemporaryDirectory _data = new("orleans-sweep-placement");
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        SyntheticFashion.Write(_data.Path, trainCount: 64, testCount: 20);
        _cluster = await TestClusters.StartAsync(silos: 3, coordinatorHasDevices: false, slotsPerDevice: 1);
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task Trials_never_land_on_a_silo_without_devices()
    {
        var silos = _cluster.Silos.ToDictionary(s => s.Name, s => s.SiloAddress.Endpoint.ToString());
        Assert.Equal(3, silos.Count);
        Assert.Contains(TestClusters.CoordinatorName, silos.Keys);

        var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("placement", _data.Path, batchSizes: [8, 16],
            learningRates: ["2^-8", "2^-7", "2^-6"], epochs: 1));
        var last = await _cluster.RunToEndAsync(spec);

        Assert.Equal(SweepState.Completed, last.State);
        Assert.Equal(6, last.Results.Count);
        Assert.All(last.Results.Values, r => Assert.Equal(TrialStatus.Completed, r.Status));
        var used = last.Results.Values.Select(r => r.Silo).ToHashSet();
        Assert.DoesNotContain(silos[TestClusters.CoordinatorName], used);
        Assert.All(used, silo => Assert.Contains(silo, silos.Values));
    }
}
