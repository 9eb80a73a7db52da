using Orleans.Serialization;
using Microsoft.Extensions.DependencyInjection;
using OrleansSweep.Abstractions;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.Grains.Trials;

namespace OrleansSweep.Grains.Hosting;

public static class SiloBuilderExtensions
{
    /// <summary>Registers the sweep engine on a silo: serializers, device slots, the trial executor and resilience.</summary>
    public static ISiloBuilder AddOrleansSweep(this ISiloBuilder silo, Action<DeviceOptions>? devices = null, Action<SweepOptions>? sweeps = null,
        Action<ArtifactOptions>? artifacts = null)
    {
        silo.Services.AddSerializer(s => s.AddOrleansSweepSerializers());
        silo.Services.AddOptions<DeviceOptions>().Configure(o => devices?.Invoke(o));
        silo.Services.AddOptions<SweepOptions>().Configure(o => sweeps?.Invoke(o));
        silo.Services.AddOptions<ArtifactOptions>().Configure(o => artifacts?.Invoke(o));
        silo.Services.AddSingleton<DeviceSlotPool>();
        silo.Services.AddSingleton<ResiliencePipelineProvider>();
        silo.Services.AddSingleton<ITrialExecutor, TorchTrialExecutor>();
        silo.Services.AddSingleton<TrialRunner>();
        return silo;
    }
}
