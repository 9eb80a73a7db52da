using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Placement;
using Polly;
using Orleans.Runtime.Hosting;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Serialization;
using OrleansSweep.Abstractions;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Grains.Placement;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.Grains.Trials;

namespace OrleansSweep.Grains;

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
        return silo.AddOrleansSweep(deviceOptions, sweeps, artifacts);
    }

    /// <summary>As above, with the silo's devices as they are (the same instance is what the silo's services see).</summary>
    public static ISiloBuilder AddOrleansSweep(this ISiloBuilder silo, DeviceOptions deviceOptions, Action<SweepOptions>? sweeps = null,
        Action<ArtifactOptions>? artifacts = null)
    {
        silo.UseSiloMetadata(new Dictionary<string, string>
        {
            [DeviceSiloMetadata.DeviceSlots] = deviceOptions.TotalSlots.ToString(CultureInfo.InvariantCulture),
        });
        silo.Services.AddPlacementFilter<DeviceSiloPlacementFilterStrategy, DeviceSiloPlacementFilterDirector>(ServiceLifetime.Singleton);

        silo.Services.AddSerializer(s => s.AddOrleansSweepSerializers());
        silo.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(deviceOptions));
        silo.Services.AddOptions<SweepOptions>().Configure(o => sweeps?.Invoke(o));
        silo.Services.AddOptions<ArtifactOptions>().Configure(o => artifacts?.Invoke(o));
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddSingleton<DeviceSlotPool>();
        silo.Services.AddSingleton<ClusterCapacity>();
        silo.Services.AddResiliencePipeline(TrialResilience.ReportResult, builder => builder.AddResultReporting());
        silo.Services.AddQuietResilienceTelemetry();
        silo.Services.AddSingleton<ITrialExecutor, TorchTrialExecutor>();
        silo.Services.AddSingleton<TrialRunner>();
        silo.Services.AddHostedService<TrainingDrain>();
        return silo;
    }
}
