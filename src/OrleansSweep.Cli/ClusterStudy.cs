using System.Text.Json;
using OrleansSweep.Client;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Reporting;
using OrleansSweep.Study;

namespace OrleansSweep.Cli;

/// <summary>
/// A study directory from a cluster's sweep (`pull`, `watch --study`): the same files `run` writes (spec, results,
/// grids, interpolations, report), so `report`, `export` and `verify` work on it unchanged. Incremental: the study
/// remembers the last result record it holds (<see cref="StudyLayout.PulledFileName"/>), the next pull asks only for
/// what came after it, and a pull with nothing new touches no file.
/// </summary>
public static class ClusterStudy
{
    /// <summary>What <see cref="StudyLayout.PulledFileName"/> holds.</summary>
    public sealed record Pulled(string Sweep, string SpecFingerprint, long Sequence, string State);

    public sealed record Outcome(string Directory, int Added, bool Changed, int Finished, int Total, string State);

    /// <summary>Brings <paramref name="directory"/> up to date with sweep <paramref name="sweep"/> of the cluster.</summary>
    public static async Task<Outcome> PullAsync(SweepClient client, string sweep, string directory, CancellationToken cancellation)
    {
        var look = await client.GetChangesAsync(sweep, long.MaxValue, null, 1, cancellation);
        if (look.Spec is null) throw new UsageException($"no sweep named '{sweep}' on this cluster (`orleans-sweep list` shows them).");
        string study = StudyDirectory.Prepare(directory, look.Spec, out _);
        using var hold = StudyDirectory.Lock(study);
        var layout = new StudyLayout(study);

        var mirror = new SweepMirror(sweep);
        var before = ReadPulled(layout.Pulled);
        if (before is not null && before.Sweep == sweep && File.Exists(layout.ResultsJson) && File.Exists(layout.Spec))
        {
            var kept = StudyFiles.Read(study);
            mirror.Seed(kept.Spec, before.SpecFingerprint, before.Sequence, kept.Results.Values);
        }
        else before = null;
        var added = await client.CatchUpAsync(mirror, cancellation);
        var snapshot = mirror.ToSnapshot();
        var after = new Pulled(sweep, mirror.SpecFingerprint!, mirror.LastSequence, snapshot.State.ToString().ToLowerInvariant());
        int finished = snapshot.Results.Values.Count(r => r.Status != TrialStatus.Cancelled);
        if (added.Count == 0 && before == after) return new Outcome(study, 0, false, finished, snapshot.TotalTrials, after.State);

        var results = new StudyResults(mirror.Spec!, GridExpander.Expand(mirror.Spec!), snapshot.Results);
        StudyFiles.Write(study, results);
        StudyReport.Write(study, results);
        StudyFiles.WriteAtomically(layout.Pulled, JsonSerializer.Serialize(after, SweepSpecLoader.JsonOptions)); // last: the files above match it
        return new Outcome(study, added.Count, true, finished, snapshot.TotalTrials, after.State);
    }

    private static Pulled? ReadPulled(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<Pulled>(File.ReadAllText(path), SweepSpecLoader.JsonOptions); }
        catch (JsonException) { return null; } // unreadable: pull everything again
    }
}
