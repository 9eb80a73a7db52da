using System.Globalization;

namespace OrleansSweep.Core.Specs;

public enum BnKind { None, Batch, Ghost }

/// <summary>Batch-norm mode of a trial: none, BN over the SGD batch, or ghost BN over sub-batches of <see cref="GhostSize"/>.</summary>
public readonly record struct BnMode(BnKind Kind, int GhostSize = 0)
{
    public static readonly BnMode None = new(BnKind.None);
    public static readonly BnMode Batch = new(BnKind.Batch);
    public static BnMode Ghost(int size) => new(BnKind.Ghost, size);

    public static bool TryParse(string? text, out BnMode mode)
    {
        mode = None;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "none": mode = None; return true;
            case "batch": mode = Batch; return true;
            case { } t when t.StartsWith("ghost:", StringComparison.Ordinal)
                            && int.TryParse(t["ghost:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int size)
                            && size >= 1:
                mode = Ghost(size); return true;
            default: return false;
        }
    }

    public static BnMode Parse(string text) =>
        TryParse(text, out var mode) ? mode : throw new FormatException($"'{text}' is not a BN mode (expected none, batch or ghost:<size>).");

    /// <summary>The spec spelling: "none", "batch", "ghost:8".</summary>
    public override string ToString() => Kind switch
    {
        BnKind.None => "none",
        BnKind.Batch => "batch",
        _ => $"ghost:{GhostSize.ToString(CultureInfo.InvariantCulture)}",
    };

    /// <summary>A spelling safe inside file names and grain keys: "none", "batch", "ghost8".</summary>
    public string Token => Kind == BnKind.Ghost ? $"ghost{GhostSize.ToString(CultureInfo.InvariantCulture)}" : ToString();
}
