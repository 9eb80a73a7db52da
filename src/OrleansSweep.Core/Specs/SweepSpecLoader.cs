using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansSweep.Core.Specs;

/// <summary>Reads sweep specs from JSON: strict (unknown fields are errors), then validated.</summary>
public static class SweepSpecLoader
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Results hold NaN and infinite losses (a diverged trial, an interpolation far from both solutions): they are
        // data, written as "NaN"/"Infinity". Spec fields that must be finite are checked by the validator.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static SweepSpec LoadFile(string path)
    {
        string json;
        try { json = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpecException(path, [e is FileNotFoundException or DirectoryNotFoundException
                ? "the spec file does not exist." : $"the spec file cannot be read ({e.Message})."]);
        }
        return Parse(json, path);
    }

    public static SweepSpec Parse(string json, string source = "spec")
    {
        SweepSpec? spec;
        try { spec = JsonSerializer.Deserialize<SweepSpec>(json, JsonOptions); }
        catch (JsonException e) { throw new SpecException(source, [Describe(e)]); }
        if (spec is null) throw new SpecException(source, ["the spec is empty (expected a JSON object)."]);
        var errors = SpecValidator.Validate(spec);
        if (errors.Count > 0) throw new SpecException(source, errors);
        return spec;
    }

    public static string ToJson(SweepSpec spec) => JsonSerializer.Serialize(spec, JsonOptions);

    private static string Describe(JsonException e)
    {
        // System.Text.Json's messages name .NET types; users think in spec fields.
        string message = e.Message;
        string field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : e.Path.TrimStart('$', '.');
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            int start = message.IndexOf('\'') + 1, end = message.IndexOf('\'', start);
            string unknown = end > start ? message[start..end] : "?";
            string parent = field.Contains('.') ? field[..field.LastIndexOf('.')] + "." : "";
            return $"unknown field '{parent}{unknown}' (check its spelling; see README, \"Spec format\").";
        }
        if (message.Contains("missing required properties", StringComparison.Ordinal))
        {
            int colon = message.IndexOf("including:", StringComparison.Ordinal);
            string names = colon >= 0 ? message[(colon + "including:".Length)..].Trim().TrimEnd('.') : "";
            return $"missing required field(s) {names}{(field.Length > 0 ? $" in '{field}'" : "")}.";
        }
        int lineInfo = message.IndexOf(" Path:", StringComparison.Ordinal);
        string core = lineInfo >= 0 ? message[..lineInfo] : message;
        string where = e.LineNumber is long line ? $" (line {line + 1})" : "";
        return field.Length > 0 ? $"field '{field}'{where}: {core}" : $"malformed JSON{where}: {core}";
    }
}
