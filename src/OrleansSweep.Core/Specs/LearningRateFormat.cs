using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansSweep.Core.Specs;

/// <summary>Learning rates written as numbers or as exact powers of two ("2^-8"), the way the papers' axes read.</summary>
public static class LearningRateFormat
{
    public static bool TryParse(string text, out double value)
    {
        text = text.Trim();
        if (text.StartsWith("2^", StringComparison.Ordinal)
            && int.TryParse(text[2..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int exponent)
            && exponent is >= -1000 and <= 1000)
        {
            value = Math.Pow(2, exponent);
            return true;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>"2^-8" for exact powers of two, else the shortest round-trip decimal.</summary>
    public static string Format(double value)
    {
        if (value > 0 && double.IsFinite(value))
        {
            double exponent = Math.Log2(value);
            if (exponent == Math.Round(exponent) && Math.Pow(2, exponent) == value)
                return "2^" + ((int)exponent).ToString(CultureInfo.InvariantCulture);
        }
        return value.ToString("R", CultureInfo.InvariantCulture);
    }
}

/// <summary>A list of learning rates, each a number or "2^k" (public: source-generated serializers of other assemblies use it).</summary>
public sealed class LearningRateListConverter : JsonConverter<IReadOnlyList<double>>
{
    public override IReadOnlyList<double> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("expected an array of learning rates (numbers or \"2^k\" strings).");
        var values = new List<double>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            values.Add(reader.TokenType switch
            {
                JsonTokenType.Number => reader.GetDouble(),
                JsonTokenType.String when LearningRateFormat.TryParse(reader.GetString()!, out double v) => v,
                _ => throw new JsonException("expected a learning rate: a number or a string such as \"2^-8\"."),
            });
        }
        return values;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<double> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (double v in value) writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }
}

/// <summary>One learning rate, a number or "2^k"; null when absent.</summary>
public sealed class OptionalLearningRateConverter : JsonConverter<double?>
{
    public override double? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.Number => reader.GetDouble(),
        JsonTokenType.String when LearningRateFormat.TryParse(reader.GetString()!, out double v) => v,
        _ => throw new JsonException("expected a learning rate: a number or a string such as \"2^-8\"."),
    };

    public override void Write(Utf8JsonWriter writer, double? value, JsonSerializerOptions options)
    {
        if (value is null) writer.WriteNullValue();
        else writer.WriteNumberValue(value.Value);
    }
}
