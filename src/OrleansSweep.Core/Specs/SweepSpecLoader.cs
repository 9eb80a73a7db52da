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

    /// <summary>
    /// A spec is read strictly, beyond the shared options: a null where the spec needs an object, list or value is refused
    /// (not a NullReferenceException later), a key given twice is refused (not "the last one wins"), and keys match
    /// case-sensitively ("name" and "NAME" are not the same field).
    /// </summary>
    private static readonly JsonSerializerOptions SpecOptions = new(JsonOptions)
    {
        RespectNullableAnnotations = true,
        AllowDuplicateProperties = false,
        PropertyNameCaseInsensitive = false,
    };

    /// <summary>A spec is a few kilobytes; anything past this is not one (and /dev/zero must not exhaust memory).</summary>
    public const int MaxSpecBytes = 1 << 20;

    public static SweepSpec LoadFile(string path)
    {
        if (Directory.Exists(path)) throw new SpecException(path, ["is a directory (expected a spec file, JSON)."]);
        string json;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, FileOptions.SequentialScan);
            var buffer = new byte[MaxSpecBytes + 1];
            int read = 0, n;
            while (read < buffer.Length && (n = stream.Read(buffer, read, buffer.Length - read)) > 0) read += n;
            if (read > MaxSpecBytes)
                throw new SpecException(path, [$"larger than {MaxSpecBytes / 1024} KiB (expected a spec file, JSON, of a few kilobytes)."]);
            json = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.DecoderFallbackException)
        {
            throw new SpecException(path, [e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "the spec file does not exist.",
                System.Text.DecoderFallbackException => "not UTF-8 text (expected a spec file, JSON).",
                _ => $"the spec file cannot be read ({e.Message}).",
            }]);
        }
        var spec = Parse(json, path);
        // A relative dataset.path means "next to this spec", wherever the command runs from (as a relative path in
        // a Makefile or a compose file does); the spec is kept with the path made absolute.
        if (spec.Dataset.Path is { Length: > 0 } data && !System.IO.Path.IsPathRooted(data))
            spec = spec with { Dataset = spec.Dataset with { Path = System.IO.Path.GetFullPath(data, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!) } };
        return spec;
    }

    public static SweepSpec Parse(string json, string source = "spec")
    {
        SweepSpec? spec;
        try { spec = JsonSerializer.Deserialize<SweepSpec>(json, SpecOptions); }
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
        string where = e.LineNumber is long line ? $" (line {line + 1})" : "";
        if (message.Contains("doesn't allow setting null values", StringComparison.Ordinal) && field.Length > 0)
            return $"field '{field}'{where}: null (expected a value; omit the field instead where it has a default).";
        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
            return $"field '{(field.Length > 0 ? field : "?")}'{where}: given more than once (each field once).";
        if (message.Contains("could not be converted to", StringComparison.Ordinal) && field.Length > 0)
            return $"field '{field}'{where}: {Expected(message)}.";
        int lineInfo = message.IndexOf(" Path:", StringComparison.Ordinal);
        string core = lineInfo >= 0 ? message[..lineInfo] : message;
        return field.Length > 0 ? $"field '{field}'{where}: {core}" : $"malformed JSON{where}: {core}";
    }

    /// <summary>What a field expected, in words rather than .NET type names.</summary>
    private static string Expected(string message) =>
        message switch
        {
            _ when message.Contains("System.Int32", StringComparison.Ordinal) || message.Contains("System.Int64", StringComparison.Ordinal)
                => "expected a whole number (such as 16; 1e3 and 16.0 are not)",
            _ when message.Contains("System.Double", StringComparison.Ordinal) => "expected a number",
            _ when message.Contains("System.Boolean", StringComparison.Ordinal) => "expected true or false",
            _ when message.Contains("System.String", StringComparison.Ordinal) => "expected a string",
            _ when message.Contains("List", StringComparison.Ordinal) || message.Contains("[]", StringComparison.Ordinal) => "expected a list",
            _ => "expected an object with the fields of README's \"Spec format\"",
        };
}
