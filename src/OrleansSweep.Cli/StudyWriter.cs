using System.Text.Json;
using OrleansSweep.Client;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Reporting;
using OrleansSweep.Study;

namespace OrleansSweep.Cli;

/// <summary>
/// Writes a sweep's study directory from the sweep's changes: the one path by which `run` (embedded), `pull` and
/// `watch --study` (a cluster) write the same files (spec, results, grids, interpolations, report), so `report`,
/// `export` and `verify` work on any of them. Incremental: the study remembers the last result record it holds
/// (<see cref="StudyLayout.PulledFileName"/>), the next update asks only for what came after it, and an update with
/// nothing new touches no file. The caller holds the study (<see cref="StudyDirectory.Lock"/>).
/// </summary>
public sealed class StudyWriter
{
    /// <summary>What <see cref="StudyLayout.PulledFileName"/> holds.</summary>
    public sealed record Pulled(string Sweep, string SpecFingerprint, long Sequence, string State);

    public sealed record Outcome(string Directory, int Added, bool Changed, int Finished, int Total, string State);

    private readonly SweepClient _client;
    private readonly string _sweep;
    private readonly StudyLayout _layout;
    private readonly SweepMirror _mirror;
    private Pulled? _written;

    private StudyWriter(SweepClient client, string sweep, string study)
    {
        (_client, _sweep, _layout, _mirror) = (client, sweep, new StudyLayout(study), new SweepMirror(sweep));
        _written = ReadPulled(_layout.Pulled);
        if (_written is not null && _written.Sweep == sweep && File.Exists(_layout.ResultsJson) && File.Exists(_layout.Spec))
        {
            var kept = StudyFiles.Read(study);
            _mirror.Seed(kept.Spec, _written.SpecFingerprint, _written.Sequence, kept.Results.Values);
        }
        else _written = null; // pull everything again
    }

    public string Directory => _layout.Directory;

    /// <summary>The study of <paramref name="sweep"/> in <paramref name="study"/> (prepared and held by the caller), as written so far.</summary>
    public static StudyWriter Open(SweepClient client, string sweep, string study) => new(client, sweep, study);

    /// <summary>
    /// Fetches what is new and, when there is something, rewrites the study's files (and its report when
    /// <paramref name="withReport"/>); returns what it found.
    /// </summary>
    public async Task<Outcome> UpdateAsync(bool withReport, CancellationToken cancellation)
    {
        var added = await _client.CatchUpAsync(_mirror, cancellation);
        var snapshot = _mirror.ToSnapshot();
        var now = new Pulled(_sweep, _mirror.SpecFingerprint!, _mirror.LastSequence, snapshot.State.ToString().ToLowerInvariant());
        int finished = snapshot.Results.Values.Count(r => r.Status != TrialStatus.Cancelled);
        bool changed = added.Count > 0 || now != _written || withReport && !File.Exists(Path.Combine(_layout.Report, StudyLayout.ReportHtmlFileName));
        if (changed)
        {
            var results = new StudyResults(_mirror.Spec!, GridExpander.Expand(_mirror.Spec!), snapshot.Results);
            StudyFiles.Write(Directory, results);
            if (withReport) StudyReport.Write(Directory, results);
            StudyFiles.WriteAtomically(_layout.Pulled, JsonSerializer.Serialize(now, SweepSpecLoader.JsonOptions)); // last: the files above match it
            _written = now;
        }
        return new Outcome(Directory, added.Count, changed, finished, snapshot.TotalTrials, now.State);
    }

    /// <summary>`pull`: prepares and holds the study directory, then brings it up to date, report included.</summary>
    public static async Task<Outcome> PullAsync(SweepClient client, string sweep, string directory, CancellationToken cancellation)
    {
        var look = await client.GetChangesAsync(sweep, long.MaxValue, null, 1, cancellation);
        if (look.Spec is null) throw new UsageException($"no sweep named '{sweep}' on this cluster (`orleans-sweep list` shows them).");
        string study = StudyDirectory.Prepare(directory, look.Spec, out _);
        using var hold = StudyDirectory.Lock(study);
        return await Open(client, sweep, study).UpdateAsync(withReport: true, cancellation);
    }

    private static Pulled? ReadPulled(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<Pulled>(File.ReadAllText(path), SweepSpecLoader.JsonOptions); }
        catch (JsonException) { return null; } // unreadable: pull everything again
    }
}
