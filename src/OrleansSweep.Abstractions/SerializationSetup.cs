using Orleans.Serialization;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Abstractions;

public static class SerializationSetup
{
    /// <summary>
    /// Core's domain types (specs, trial specs, results) stay free of Orleans attributes, so they travel and persist as
    /// JSON with the spec's own options: readable, and tolerant of fields added by later versions. Silos and clients
    /// must both call this. Core's exceptions (a spec refused by a grain) are not data: Orleans' exception codec carries
    /// them (type, message, stack), as JSON cannot.
    /// </summary>
    public static ISerializerBuilder AddOrleansSweepSerializers(this ISerializerBuilder builder) =>
        builder.AddJsonSerializer(
            isSupported: type => type.Namespace?.StartsWith("OrleansSweep.Core", StringComparison.Ordinal) == true
                                 && !typeof(Exception).IsAssignableFrom(type),
            jsonSerializerOptions: SweepSpecLoader.JsonOptions);
}
