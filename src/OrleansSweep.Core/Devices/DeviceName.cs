using System.Globalization;

namespace OrleansSweep.Core.Devices;

public enum DeviceKind { Cpu, Cuda, Auto }

/// <summary>
/// A device as users write it: "cpu", "cuda" (= cuda:0), "cuda:N" or "auto" (cuda:0 when CUDA is there, else cpu).
/// Parsed once, where the name enters (a flag, a setting), so a mistake is refused before anything starts instead of
/// surfacing as a failed trial.
/// </summary>
public readonly record struct DeviceName(DeviceKind Kind, int Index)
{
    /// <summary>More CUDA devices than any machine has; larger indices are typos, not devices.</summary>
    public const int MaxCudaIndex = 1023;

    public const string Expected = "cpu, cuda, cuda:N or auto";

    public static DeviceName Cpu => new(DeviceKind.Cpu, 0);

    public bool IsCuda => Kind == DeviceKind.Cuda;

    public static bool TryParse(string? text, out DeviceName device)
    {
        device = Cpu;
        if (text is null) return false;
        string name = text.Trim().ToLowerInvariant();
        switch (name)
        {
            case "cpu": return true;
            case "auto": device = new(DeviceKind.Auto, 0); return true;
            case "cuda": device = new(DeviceKind.Cuda, 0); return true;
        }
        if (!name.StartsWith("cuda:", StringComparison.Ordinal)) return false;
        string digits = name["cuda:".Length..];
        if (digits.Length is 0 or > 4 || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index > MaxCudaIndex)
            return false;
        device = new(DeviceKind.Cuda, index);
        return true;
    }

    /// <summary>The name, or an <see cref="ArgumentException"/> whose message says what was expected.</summary>
    public static DeviceName Parse(string? text) =>
        TryParse(text, out var device)
            ? device
            : throw new ArgumentException($"'{text}' is not a device (expected {Expected}).");

    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.Auto => "auto",
        _ => string.Create(CultureInfo.InvariantCulture, $"cuda:{Index}"),
    };
}
