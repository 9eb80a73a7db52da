using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Placement;
using OrleansSweep.Abstractions;
using OrleansSweep.Grains.Placement;
using OrleansSweep.Grains.Trials;
using OrleansSweep.Study;

namespace OrleansSweep.Grains.Artifacts;

/// <summary>
/// Reads a sweep's TensorBoard event files from the artifact root for a client (<see cref="ISweepArtifactsGrain"/>).
/// Placed on a silo with devices: those are the silos that write the shared root, so they can read it.
/// </summary>
[DeviceSiloPlacementFilter]
[ActivationCountBasedPlacement]
[Reentrant]
public sealed class SweepArtifactsGrain(IOptions<ArtifactOptions> artifacts) : Grain, ISweepArtifactsGrain
{
    public Task<IReadOnlyList<ArtifactChunk>> ReadTensorBoard(IReadOnlyDictionary<string, long> have, int maxBytes) =>
        Task.Run(() => Read(this.GetPrimaryKeyString(), have, maxBytes)); // file I/O off the grain scheduler

    private IReadOnlyList<ArtifactChunk> Read(string sweep, IReadOnlyDictionary<string, long> have, int maxBytes)
    {
        if (artifacts.Value.SweepRoot(sweep) is not { } root) return [];
        string directory = Path.Combine(root, StudyLayout.TensorBoardDirectoryName);
        if (!Directory.Exists(directory)) return [];
        var chunks = new List<ArtifactChunk>();
        long budget = Math.Max(1, maxBytes);
        foreach (string file in Directory.EnumerateFiles(directory, "events.out.tfevents.*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string relative = Path.GetRelativePath(directory, file).Replace(Path.DirectorySeparatorChar, '/');
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long offset = have.GetValueOrDefault(relative);
            if (offset > stream.Length) offset = 0; // not the file the reader has: send it whole
            if (offset == stream.Length) continue;
            int length = (int)Math.Min(stream.Length - offset, budget);
            var bytes = new byte[length];
            stream.Position = offset;
            stream.ReadExactly(bytes);
            chunks.Add(new ArtifactChunk(relative, offset, bytes));
            budget -= length;
            if (budget <= 0) break;
        }
        return chunks;
    }
}
