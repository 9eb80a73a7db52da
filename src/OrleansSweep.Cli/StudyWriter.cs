using System.Diagnostics;
using System.Text.Json;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Trials;
using OrleansSweep.Reporting;
using OrleansSweep.Study;

namespace OrleansSweep.Cli;

/// <summary>
/// Writes a sweep's study directory from the sweep's changes: the one path by which `run` (embedded), `pull` and
/// `watch --study` (a cluster) write the same files (spec, results, grids, interpolations, report), so `report`,
/// `export` and `verify` work on any of them.
/// <para>
/// What an update costs is what is new. Each new result is appended to results.jsonl (<see cref="StudyLedger"/>); the
/// tables (results.json/csv, grids, interpolations, spec) are views of every result, so they are rewritten only when
/// the sweep ends or when at least <see cref="TableRewriteSpacing"/> times their last rewrite's duration has passed
/// since it: at most a tenth of the time goes to them however large the grid (a 9-trial study's tables take
/// milliseconds and follow every result; a million-cell study's are refreshed every few minutes), and readers
/// (<see cref="StudyFiles.Read"/>) add the ledger's later lines to the tables, so they always see every result.
/// </para>
/// <para>
/// The study remembers where its tables stand (<see cref="StudyLayout.PulledFileName"/>, written after them) and its
/// ledger where the results stand; reopened, it asks only for what came after the ledger's last line, and an update
/// with nothing new touches no file. The caller holds the study (<see cref="StudyDirectory.Lock"/>).
/// </para>
/// </summary>
public sealed class StudyWriter
{
    /// <summary>What <see cref="StudyLayout.PulledFileName"/> holds: the sweep, and how far the tables are written.</summary>
    public sealed record Pulled(string Sweep, string SpecFingerprint, long Sequence, string State);

    public sealed record Outcome(string Directory, int Added, bool Changed, int Finished, int Total, string State, long TensorBoardBytes = 0);

    /// <summary>At most this many bytes of event files per call when bringing TensorBoard files.</summary>
    public const int TensorBoardChunkBytes = 4 << 20;

    /// <summary>Tables wait this many times their last rewrite's duration before the next (at most ~1/10 of the time).</summary>
    public const int TableRewriteSpacing = 10;

    private readonly SweepClient _client;
    private readonly string _sweep;
    private readonly StudyLayout _layout;
    private readonly StudyLedger _ledger;
    private Pulled? _tables;
    /// <summary>Whether the ledger on disk holds every result the mirror was seeded with (else the first write replaces it).</summary>
    private bool _ledgerCurrent;
    private readonly Stopwatch _sinceTables = new();
    private TimeSpan _lastTablesDuration;

    private StudyWriter(SweepClient client, string sweep, string study)
    {
        (_client, _sweep, _layout) = (client, sweep, new StudyLayout(study));
        _ledger = new StudyLedger(_layout.ResultsLedger);
        Mirror = new SweepMirror(sweep);
        _tables = ReadPulled(_layout.Pulled);
        if (_tables is not null && _tables.Sweep == sweep && _ledger.Exists && File.Exists(_layout.Spec))
        {
            var lines = _ledger.OpenForAppend();
            long last = lines.Count > 0 ? lines[^1].Sequence : 0;
            Mirror.Seed(SweepSpecLoader.LoadFile(_layout.Spec), _tables.SpecFingerprint, last, lines.Select(l => l.Result));
            _lastLine = lines.Count > 0 ? lines[^1] : null;
            _ledgerCurrent = true;
            if (last != _tables.Sequence) _tables = null; // killed between the ledger and the tables: rewrite them
        }
        else _tables = null; // a study of another sweep, or of a version without a ledger: fetch everything again
    }

    private StudyLedger.Line? _lastLine;

    public string Directory => _layout.Directory;

    /// <summary>The sweep as the study holds it: seeded from the ledger, then kept current by whoever follows the sweep.</summary>
    public SweepMirror Mirror { get; private set; }

    /// <summary>
    /// The study of <paramref name="sweep"/> in <paramref name="study"/> (prepared and held by the caller), as written so
    /// far. The study goes on from its ledger's last line only when the sweep's record at that sequence is that very
    /// result; otherwise (a sweep submitted again under the same name, a state migrated from an older version) the
    /// sequences are not the study's and every result is fetched again.
    /// </summary>
    public static async Task<StudyWriter> OpenAsync(SweepClient client, string sweep, string study, CancellationToken cancellation)
    {
        var writer = new StudyWriter(client, sweep, study);
        if (writer._lastLine is { } last)
        {
            var probe = await client.GetChangesAsync(sweep, last.Sequence - 1, writer.Mirror.SpecFingerprint, 1, cancellation);
            if (probe.Results is not [{ } record] || record.Sequence != last.Sequence || !SameResult(record.Result, last.Result)) writer.StartOver();
        }
        return writer;
    }

    private static bool SameResult(TrialResult a, TrialResult b) =>
        JsonSerializer.Serialize(a, SweepSpecLoader.JsonOptions) == JsonSerializer.Serialize(b, SweepSpecLoader.JsonOptions);

    private void StartOver()
    {
        Mirror = new SweepMirror(_sweep);
        (_ledgerCurrent, _tables, _lastLine) = (false, null, null);
    }

    /// <summary>
    /// Fetches what is new, writes it, and brings the tables up to date (with the report when
    /// <paramref name="withReport"/>): the last update of a pull or a watch.
    /// </summary>
    /// <param name="withTensorBoard">Also bring the trials' TensorBoard event files from the cluster's artifact root (pull,
    /// watch: a client that may not reach that directory); embedded, the trials write them into the study themselves.</param>
    public async Task<Outcome> UpdateAsync(bool withReport, CancellationToken cancellation, bool withTensorBoard = false)
    {
        var added = await _client.CatchUpAsync(Mirror, cancellation);
        var outcome = Record(added, final: true, withReport);
        if (!withTensorBoard) return outcome;
        long bytes = await BringTensorBoardAsync(cancellation);
        return outcome with { TensorBoardBytes = bytes, Changed = outcome.Changed || bytes > 0 };
    }

    /// <summary>Appends what the sweep's event files gained since the study's copy (all of them the first time); returns the bytes.</summary>
    private async Task<long> BringTensorBoardAsync(CancellationToken cancellation)
    {
        var board = new StudyTensorBoard(Directory);
        long total = 0;
        while (true)
        {
            var chunks = await _client.ReadTensorBoardAsync(_sweep, board.Lengths(), TensorBoardChunkBytes, cancellation);
            if (chunks.Count == 0) return total;
            foreach (var chunk in chunks)
            {
                board.Write(chunk.Path, chunk.Offset, chunk.Bytes);
                total += chunk.Bytes.Length;
            }
        }
    }

    /// <summary>
    /// Writes results the <see cref="Mirror"/> was just given (by <see cref="SweepClient.FollowAsync"/>): appends them to
    /// the ledger, and rewrites the tables when <paramref name="final"/> or when they are due.
    /// </summary>
    public Outcome Record(IReadOnlyList<RecordedResult> added, bool final, bool withReport = false)
    {
        var lines = added.Select(r => new StudyLedger.Line(r.Sequence, r.Result));
        if (_ledgerCurrent) _ledger.Append(lines);
        else
        {
            // Everything fetched from the start: the ledger is written whole, so a reader never sees half of it.
            _ledger.Replace(lines);
            _ledgerCurrent = true;
        }

        var now = new Pulled(_sweep, Mirror.SpecFingerprint!, Mirror.LastSequence, Mirror.State.ToString().ToLowerInvariant());
        bool reportMissing = withReport && !File.Exists(_layout.ReportHtml);
        bool stale = now != _tables || reportMissing;
        bool due = final || _tables is null || _sinceTables.Elapsed >= _lastTablesDuration * TableRewriteSpacing;
        if (stale && due) WriteTables(now, withReport);
        int finished = Mirror.Results.Count;
        return new Outcome(Directory, added.Count, added.Count > 0 || stale && due, finished, Mirror.TotalTrials, now.State);
    }

    private void WriteTables(Pulled now, bool withReport)
    {
        var clock = Stopwatch.StartNew();
        var snapshot = Mirror.ToSnapshot();
        var results = new StudyResults(Mirror.Spec!, GridExpander.Expand(Mirror.Spec!), snapshot.Results);
        StudyFiles.Write(Directory, results);
        if (withReport) StudyReport.Write(Directory, results);
        StudyFiles.WriteAtomically(_layout.Pulled, JsonSerializer.Serialize(now, SweepSpecLoader.JsonOptions)); // last: the files above match it
        _tables = now;
        _lastTablesDuration = clock.Elapsed;
        _sinceTables.Restart();
    }

    /// <summary>`pull`: prepares and holds the study directory, then brings it up to date, report included.</summary>
    public static async Task<Outcome> PullAsync(SweepClient client, string sweep, string directory, CancellationToken cancellation)
    {
        var look = await client.GetChangesAsync(sweep, long.MaxValue, null, 1, cancellation);
        if (look.Spec is null) throw new UsageException($"no sweep named '{sweep}' on this cluster (`orleans-sweep list` shows them).");
        string study = StudyDirectory.Prepare(directory, look.Spec, out _);
        using var hold = StudyDirectory.Lock(study);
        return await (await OpenAsync(client, sweep, study, cancellation)).UpdateAsync(withReport: true, cancellation, withTensorBoard: true);
    }

    private static Pulled? ReadPulled(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<Pulled>(File.ReadAllText(path), SweepSpecLoader.JsonOptions); }
        catch (JsonException) { return null; } // unreadable: pull everything again
    }
}
