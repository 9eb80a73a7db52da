namespace OrleansSweep.Abstractions;

/// <summary>
/// Bytes of a file a sweep's trials wrote under the cluster's artifact root: its path relative to the sweep's TensorBoard
/// directory ("&lt;trial&gt;/events.out.tfevents..."), where they start in the file, and the bytes.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ArtifactChunk([property: Id(0)] string Path, [property: Id(1)] long Offset, [property: Id(2)] byte[] Bytes);

/// <summary>
/// A sweep's files on the artifact root, read for a client that cannot reach that directory itself (`pull` from any
/// machine). Keyed by the sweep's name; it lives on a silo with devices, which writes and reads the shared root.
/// </summary>
public interface ISweepArtifactsGrain : IGrainWithStringKey
{
    /// <summary>
    /// What the sweep's TensorBoard event files hold beyond what the reader has (<paramref name="have"/>: relative path to
    /// the length it holds): the appended bytes of each grown or new file, at most <paramref name="maxBytes"/> in all; an
    /// empty answer means the reader has everything. Event files only grow, so a reader appends what it is given.
    /// </summary>
    Task<IReadOnlyList<ArtifactChunk>> ReadTensorBoard(IReadOnlyDictionary<string, long> have, int maxBytes);
}
