namespace OrleansSweep.Core.Specs;

/// <summary>
/// A sweep spec that cannot be run; each error names the field and what was expected. Each error is one line (a value
/// echoed in it is escaped, <see cref="UserText.OneLine"/>); several are listed one per line under a count.
/// </summary>
public sealed class SpecException : UserErrorException
{
    public SpecException(string source, IReadOnlyList<string> errors) : this(UserText.OneLine(source), [.. errors.Select(UserText.OneLine)]) { }

    private SpecException(string source, List<string> errors)
        : base($"{source}: " + (errors.Count == 1 ? errors[0] : $"{errors.Count} problems:\n  - " + string.Join("\n  - ", errors)), BadInput, oneLine: false) =>
        (SpecSource, Errors) = (source, errors);

    public string SpecSource { get; }
    public IReadOnlyList<string> Errors { get; }
}
