using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace OrleansSweep.Cli;

/// <summary>
/// Command-line flags that are settings of a silo: each one is a configuration key ("--slots 2" is
/// OrleansSweep:SlotsPerDevice = 2; a repeated flag is OrleansSweep:Devices:0, :1, ...), bound by the same options code as
/// appsettings and the environment. A flag not given leaves its key unset, so the defaults live in one place (the options).
/// </summary>
public sealed class SettingFlags(string section, IEnumerable<(Option Flag, string Key)> flags)
{
    private readonly IReadOnlyList<(Option Flag, string Key)> _flags = flags.ToList();

    public IEnumerable<Option> Options => _flags.Select(f => f.Flag);

    /// <summary>How the command line spells a setting, for messages: "SlotsPerDevice" is "--slots".</summary>
    public string FlagOf(string key) => _flags.FirstOrDefault(f => f.Key == key).Flag?.Name ?? key;

    public IConfiguration Configuration(ParseResult parse, IEnumerable<KeyValuePair<string, string?>>? fixedSettings = null)
    {
        var values = new Dictionary<string, string?>(fixedSettings ?? []);
        foreach (var (flag, key) in _flags)
        {
            if (parse.GetResult(flag) is not { Implicit: false } result) continue; // not given: the key keeps its default
            string name = $"{section}:{key}";
            var tokens = result.Tokens.Select(t => t.Value).ToList();
            if (flag.ValueType == typeof(string[]))
                for (int i = 0; i < tokens.Count; i++) values[$"{name}:{i}"] = tokens[i];
            else
                values[name] = tokens.Count == 0 ? "true" : tokens[^1]; // a bare switch (--coordinator-only) is true
        }
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }
}
