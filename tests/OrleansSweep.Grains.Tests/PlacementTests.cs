using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.TestingHost;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Grains.Hosting;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Grains.Tests;

public sealed class PlacementTests : IAsyncLifetime
{
    private const string CoordinatorName = "Silo_0";
    private readonly TemporaryDirectory _data = new("orleans-sweep-placement");
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        SyntheticFashion.Write(_data.Path, trainCount: 64, testCount: 20);
        var builder = new InProcessTestClusterBuilder(3);
        builder.ConfigureSilo((options, silo) =>
        {
            silo.AddMemoryGrainStorage(SweepOptions.StorageName);
            // The first silo coordinates only: no devices.
            bool coordinator = options.SiloName == CoordinatorName;
            silo.AddOrleansSweep(d => { d.Devices = coordinator ? [] : ["cpu"]; d.SlotsPerDevice = 1; d.ThreadsPerTrial = 1; },
                s => s.DefaultMaxConcurrentTrials = 2);
        });
        builder.ConfigureClient(client => client.Services.AddSerializer(s => s.AddOrleansSweepSerializers()));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
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
        Assert.Contains(CoordinatorName, silos.Keys);

        var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("placement", _data.Path, batchSizes: [8, 16],
            learningRates: ["2^-8", "2^-7", "2^-6"], epochs: 1));
        var client = new SweepClient(_cluster.Client);
        await client.StartAsync(spec);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        SweepSnapshot last = null!;
        await foreach (var snapshot in client.WatchAsync(spec.Name, TimeSpan.FromMilliseconds(100), timeout.Token)) last = snapshot;

        Assert.Equal(SweepState.Completed, last.State);
        Assert.Equal(6, last.Results.Count);
        Assert.All(last.Results.Values, r => Assert.Equal(TrialStatus.Completed, r.Status));
        var used = last.Results.Values.Select(r => r.Silo).ToHashSet();
        Assert.DoesNotContain(silos[CoordinatorName], used);
        Assert.All(used, silo => Assert.Contains(silo, silos.Values));
    }
}
