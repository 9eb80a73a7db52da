namespace OrleansSweep.Core.Specs;

/// <summary>A sweep spec that cannot be run; each error names the field and what was expected.</summary>
public sealed class SpecException(string source, IReadOnlyList<string> errors)
    : UserErrorException($"{source}: " + (errors.Count == 1 ? errors[0] : $"{errors.Count} problems:\n  - " + string.Join("\n  - ", errors)))
{
    public string SpecSource { get; } = source;
    public IReadOnlyList<string> Errors { get; } = errors;
}
