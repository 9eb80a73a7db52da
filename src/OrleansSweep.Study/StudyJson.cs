using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansSweep.Core.Specs;

namespace OrleansSweep.Study;

/// <summary>
/// results.json's serializer, generated at compile time for <see cref="ResultsDocument"/> (no reflection over the
/// results' types), with the options every other document of the product uses (camel case, NaN as "NaN", ...).
/// </summary>
[JsonSerializable(typeof(ResultsDocument))]
internal sealed partial class StudyJsonContext : JsonSerializerContext
{
    public static StudyJsonContext WithProductOptions { get; } = new(new JsonSerializerOptions(SweepSpecLoader.JsonOptions));
}
