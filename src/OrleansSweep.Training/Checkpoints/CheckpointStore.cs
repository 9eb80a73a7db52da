using System.Globalization;
using System.Security.Cryptography;
using MessagePack;

namespace OrleansSweep.Training.Checkpoints;

/// <summary>The checkpoint to resume from (null: start afresh), and what was wrong with any newer ones passed over.</summary>
public sealed record CheckpointLoad(TrainingCheckpoint? Checkpoint, string? Path, IReadOnlyList<string> Problems);

/// <summary>
/// One trial's checkpoints in a directory: epoch-NNNNN.ckpt, written atomically (temporary file, fsync, rename), the
/// newest <c>keep</c> kept. Loading takes the newest intact one that belongs to the trial; a corrupt file is renamed
/// to *.corrupt and reported, and the previous good checkpoint is used.
/// </summary>
public sealed class CheckpointStore(string directory, int keep = 2)
{
    private const string Extension = ".ckpt";
    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    public string Directory { get; } = directory;

    public string Save(TrainingCheckpoint checkpoint)
    {
        System.IO.Directory.CreateDirectory(Directory);
        byte[] payload = MessagePackSerializer.Serialize(checkpoint, Options);
        byte[] file = MessagePackSerializer.Serialize(new CheckpointEnvelope { Payload = payload, Sha256 = SHA256.HashData(payload) }, Options);
        string path = Path.Combine(Directory, FileName(checkpoint));
        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(file);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
        foreach (string old in Files().Skip(keep)) File.Delete(old);
        return path;
    }

    public CheckpointLoad LoadLatest(string trialFingerprint)
    {
        var problems = new List<string>();
        foreach (string path in Files())
        {
            TrainingCheckpoint checkpoint;
            try
            {
                checkpoint = Read(path);
            }
            catch (CorruptCheckpointException e)
            {
                problems.Add($"{path}: {e.Message}; set aside as {System.IO.Path.GetFileName(path)}.corrupt.");
                File.Move(path, path + ".corrupt", overwrite: true);
                continue;
            }
            if (checkpoint.TrialFingerprint != trialFingerprint)
            {
                problems.Add($"{path}: belongs to a trial with other settings; ignored.");
                continue;
            }
            return new CheckpointLoad(checkpoint, path, problems);
        }
        return new CheckpointLoad(null, null, problems);
    }

    /// <summary>Reads and verifies one checkpoint file.</summary>
    public static TrainingCheckpoint Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        CheckpointEnvelope envelope;
        try { envelope = MessagePackSerializer.Deserialize<CheckpointEnvelope>(bytes, Options); }
        catch (MessagePackSerializationException) { throw new CorruptCheckpointException("truncated or not a checkpoint file"); }
        if (envelope.Format > CheckpointEnvelope.CurrentFormat)
            throw new CorruptCheckpointException($"written by a newer version (format {envelope.Format}; this version reads up to {CheckpointEnvelope.CurrentFormat})");
        if (!SHA256.HashData(envelope.Payload).AsSpan().SequenceEqual(envelope.Sha256))
            throw new CorruptCheckpointException("integrity check failed (SHA-256 of the payload does not match)");
        try { return MessagePackSerializer.Deserialize<TrainingCheckpoint>(envelope.Payload, Options); }
        catch (MessagePackSerializationException e) { throw new CorruptCheckpointException($"unreadable payload ({e.Message})"); }
    }

    /// <summary>Checkpoint files, newest first (a part-way checkpoint of epoch e + 1 sorts before the end of epoch e).</summary>
    public IEnumerable<string> Files() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory, "epoch-*" + Extension).OrderByDescending(f => f, StringComparer.Ordinal).ToList()
            : [];

    private static string FileName(TrainingCheckpoint checkpoint)
    {
        string epoch = checkpoint.EpochsDone.ToString("D5", CultureInfo.InvariantCulture);
        return checkpoint.PartialEpochSteps == 0
            ? $"epoch-{epoch}{Extension}"
            : $"epoch-{epoch}.step-{checkpoint.PartialEpochSteps.ToString("D9", CultureInfo.InvariantCulture)}{Extension}";
    }
}

/// <summary>A checkpoint that cannot be used (truncated, corrupt, from a newer version); the message says which and why.</summary>
public sealed class CorruptCheckpointException(string message) : Core.UserErrorException(message);
