using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
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
    /// placed only on silos with devices), the trial executor and resilience pipelines. The devices are bound from the
    /// silo's configuration (section "OrleansSweep", see <see cref="DeviceOptions"/>) and checked when the host starts;
    /// <paramref name="devices"/>, when given, is applied after the configuration (tests and benchmarks say them in code).
    /// </summary>
    public static ISiloBuilder AddOrleansSweep(this ISiloBuilder silo, Action<DeviceOptions>? devices = null, Action<SweepOptions>? sweeps = null,
        Action<ArtifactOptions>? artifacts = null)
    {
        silo.Services.AddDeviceOptions(devices);

        // Silo metadata is fixed before the services exist: the same binding, read once here.
        var deviceOptions = DeviceOptions.From(silo.Configuration);
        devices?.Invoke(deviceOptions);
        silo.UseSiloMetadata(new Dictionary<string, string>
        {
            [DeviceSiloMetadata.DeviceSlots] = deviceOptions.TotalSlots.ToString(CultureInfo.InvariantCulture),
        });
        silo.Services.AddPlacementFilter<DeviceSiloPlacementFilterStrategy, DeviceSiloPlacementFilterDirector>(ServiceLifetime.Singleton);

        silo.Services.AddSerializer(s => s.AddOrleansSweepSerializers());
        silo.Services.AddOptions<SweepOptions>().Configure(o => sweeps?.Invoke(o));
        silo.Services.AddOptions<ArtifactOptions>().Configure(o => artifacts?.Invoke(o));
        silo.Services.TryAddSingleton(TimeProvider.System);
        // The storage providers (SQLite, Redis) register theirs first; memory state gets a memory log.
        silo.Services.TryAddSingleton<ITrialResultLog, MemoryTrialResultLog>();
        silo.Services.TryAddSingleton<IDeviceMemoryProbe, CudaMemoryProbe>();
        silo.Services.AddSingleton<DeviceSlotPool>();
        silo.Services.AddSingleton<ClusterCapacity>();
        silo.Services.AddMetrics(); // IMeterFactory, if the host has none yet
        silo.Services.AddSingleton<Telemetry.SweepMetrics>();
        silo.Services.AddResiliencePipeline(TrialResilience.ReportResult, builder => builder.AddResultReporting());
        silo.Services.AddQuietResilienceTelemetry();
        silo.Services.AddSingleton<ITrialExecutor, TorchTrialExecutor>();
        silo.Services.AddSingleton<TrainingThreads>();
        silo.Services.AddSingleton<TrialRunner>();
        silo.Services.AddHostedService<TrainingDrain>();
        return silo;
    }

    /// <summary>
    /// <see cref="DeviceOptions"/> bound from the configuration's "OrleansSweep" section, then <paramref name="devices"/>
    /// (code wins), checked by <see cref="DeviceOptionsValidator"/> when the host starts.
    /// </summary>
    public static IServiceCollection AddDeviceOptions(this IServiceCollection services, Action<DeviceOptions>? devices = null)
    {
        var bound = services.AddOptions<DeviceOptions>()
            .BindConfiguration(DeviceOptions.Section)
            .PostConfigure<IConfiguration>((o, configuration) => o.ApplyDefaults(configuration));
        if (devices is not null) bound.PostConfigure(devices);
        bound.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeviceOptions>, DeviceOptionsValidator>());
        return services;
    }
}
