namespace OrleansSweep.Grains.Trials;

/// <summary>Where trials keep checkpoints and final weights: the study directory (embedded) or a directory every silo reaches.</summary>
public sealed class ArtifactOptions
{
    /// <summary>Root directory; null keeps no artifacts (no checkpoints, so no resume).</summary>
    public string? Root { get; set; }

    public string? TrialDirectory(string sweepName, string trialId) =>
        Root is null ? null : Path.Combine(Root, "trials", trialId);
}
