using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Placement;
using Orleans.Runtime.Hosting;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Serialization;
using OrleansSweep.Abstractions;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Grains.Placement;
using OrleansSweep.Grains.Storage;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.Grains.Trials;

namespace OrleansSweep.Grains.Hosting;

public static class SiloBuilderExtensions
{
    /// <summary>
    /// Registers the sweep engine on a silo: serializers, device slots (published as silo metadata so trial grains are
    /// placed only on silos with devices), the trial executor and resilience pipelines.
    /// </summary>
    public static ISiloBuilder AddOrleansSweep(this ISiloBuilder silo, Action<DeviceOptions>? devices = null, Action<SweepOptions>? sweeps = null,
        Action<ArtifactOptions>? artifacts = null)
    {
        var deviceOptions = new DeviceOptions();
        devices?.Invoke(deviceOptions);
        silo.UseSiloMetadata(new Dictionary<string, string>
        {
            [DeviceSiloMetadata.DeviceSlots] = deviceOptions.TotalSlots.ToString(CultureInfo.InvariantCulture),
        });
        silo.Services.AddPlacementFilter<DeviceSiloPlacementFilterStrategy, DeviceSiloPlacementFilterDirector>(ServiceLifetime.Singleton);

        silo.Services.AddSerializer(s => s.AddOrleansSweepSerializers());
        silo.Services.AddOptions<DeviceOptions>().Configure(o =>
        {
            o.Devices = deviceOptions.Devices;
            o.SlotsPerDevice = deviceOptions.SlotsPerDevice;
            o.ThreadsPerTrial = deviceOptions.ThreadsPerTrial;
            o.BatchPerSlot = deviceOptions.BatchPerSlot;
        });
        silo.Services.AddOptions<SweepOptions>().Configure(o => sweeps?.Invoke(o));
        silo.Services.AddOptions<ArtifactOptions>().Configure(o => artifacts?.Invoke(o));
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddSingleton<DeviceSlotPool>();
        silo.Services.AddSingleton<ClusterCapacity>();
        silo.Services.AddSingleton<ResiliencePipelineProvider>();
        silo.Services.AddSingleton<ITrialExecutor, TorchTrialExecutor>();
        silo.Services.AddSingleton<TrialRunner>();
        return silo;
    }

    /// <summary>Grain storage in a SQLite file (the embedded mode's durable state).</summary>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder silo, string name, string databasePath)
    {
        silo.Services.AddGrainStorage(name, (services, _) => new SqliteGrainStorage(databasePath, services.GetRequiredService<Serializer>()));
        return silo;
    }
}
