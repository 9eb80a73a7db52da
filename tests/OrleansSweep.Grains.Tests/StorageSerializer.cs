using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrleansSweep.Abstractions;
using OrleansSweep.Grains.Sweeps;

namespace OrleansSweep.Grains.Tests;

/// <summary>The serializer a silo's stores use (the grains' generated codecs and Core's types as JSON), outside a silo.</summary>
public static class StorageSerializer
{
    public static Serializer Create() => new ServiceCollection()
        .AddSerializer(s => { s.AddAssembly(typeof(SweepGrainState).Assembly); s.AddOrleansSweepSerializers(); })
        .BuildServiceProvider().GetRequiredService<Serializer>();
}
