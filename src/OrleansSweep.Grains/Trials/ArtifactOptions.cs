using OrleansSweep.Core.Specs;
using OrleansSweep.Study;

namespace OrleansSweep.Grains.Trials;

/// <summary>
/// Where trials keep checkpoints and final weights (the study directory when embedded, a directory every silo reaches in
/// a cluster), and which directories a spec may name as its dataset.
/// </summary>
public sealed class ArtifactOptions
{
    /// <summary>Root directory; null keeps no artifacts (no checkpoints, so no resume).</summary>
    public string? Root { get; set; }
    /// <summary>
    /// One directory per sweep under the root (a cluster: sweeps share the root, and their trial ids repeat);
    /// false: trials directly under the root (embedded: the root is the study of one sweep).
    /// </summary>
    public bool PerSweep { get; set; }
    /// <summary>Directories a spec's dataset.path must lie in (a cluster: specs come from clients); null: anywhere (embedded).</summary>
    public IReadOnlyList<string>? DataRoots { get; set; }

    public string? TrialDirectory(string sweepName, string trialId) =>
        Contained(sweepName, trialId, SweepRoot(sweepName) is { } root ? StudyLayout.TrialDirectory(root, trialId) : null);

    /// <summary>The trial's TensorBoard run: <c>&lt;sweep root&gt;/tensorboard/&lt;trial&gt;</c>, beside the trials (one logdir per sweep).</summary>
    public string? TensorBoardRun(string sweepName, string trialId) =>
        Contained(sweepName, trialId, SweepRoot(sweepName) is { } root ? StudyLayout.TensorBoardRun(root, trialId) : null);

    /// <summary>Where a sweep's artifacts live: the root (embedded) or its own directory under it (cluster); null: none kept.</summary>
    public string? SweepRoot(string sweepName) => Root is null ? null : PerSweep ? Path.Combine(Root, "sweeps", sweepName) : Root;

    private string? Contained(string sweepName, string trialId, string? directory)
    {
        // Names are validated (letters, digits, '.', '_', '-'), so this cannot happen; if it ever did, refuse rather than write outside.
        if (directory is not null && !PathContainment.IsInside(directory, [Root!]))
            throw new ArgumentException($"trial '{trialId}' of sweep '{sweepName}' would keep its files outside the artifact root {Root}.");
        return directory;
    }
}
