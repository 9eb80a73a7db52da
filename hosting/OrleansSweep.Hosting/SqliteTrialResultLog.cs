using Microsoft.Data.Sqlite;
using Orleans.Serialization;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Sweeps;
using OrleansSweep.Grains.Sweeps;

namespace OrleansSweep.Hosting;

/// <summary>
/// The embedded mode's result log: one row per trial in the study's SQLite file (beside the sweep's compact state), so
/// recording a result writes that result and nothing else. The sequence is the row's place in the sweep's order of
/// results; (sweep, trial) is unique, which makes a repeated append a no-op.
/// </summary>
public sealed class SqliteTrialResultLog : ITrialResultLog
{
    private readonly SqliteStateFile _file;
    private readonly Serializer _serializer;

    private readonly string _path;

    public SqliteTrialResultLog(string databasePath, Serializer serializer)
    {
        (_serializer, _path) = (serializer, databasePath);
        _file = new SqliteStateFile(databasePath, """
            CREATE TABLE IF NOT EXISTS trial_results (
                sweep    TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                trial_id TEXT NOT NULL,
                status   INTEGER NOT NULL,
                payload  BLOB NOT NULL,
                PRIMARY KEY (sweep, sequence),
                UNIQUE (sweep, trial_id));
            """);
    }

    public async Task AppendAsync(string sweep, IReadOnlyList<TrialResult> results)
    {
        if (results.Count == 0) return;
        var payloads = results.Select(r => (r, _serializer.SerializeToArray(r))).ToList();
        await using var connection = Open();
        // BEGIN IMMEDIATE: the next sequence number is read and used under the write lock (a stale activation of the
        // sweep may append from another process of the cluster... or, here, another connection).
        await using var transaction = (SqliteTransaction)connection.BeginTransaction(deferred: false);
        long last = await LastSequenceAsync(connection, transaction, sweep);
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT OR IGNORE INTO trial_results (sweep, sequence, trial_id, status, payload) VALUES ($s, $n, $t, $st, $p)";
        var sequence = insert.Parameters.Add("$n", SqliteType.Integer);
        var trial = insert.Parameters.Add("$t", SqliteType.Text);
        var status = insert.Parameters.Add("$st", SqliteType.Integer);
        var payload = insert.Parameters.Add("$p", SqliteType.Blob);
        insert.Parameters.AddWithValue("$s", sweep);
        foreach (var (result, bytes) in payloads)
        {
            sequence.Value = last + 1;
            trial.Value = result.TrialId;
            status.Value = (int)result.Status;
            payload.Value = bytes;
            if (await insert.ExecuteNonQueryAsync() == 1) last++;
        }
        await transaction.CommitAsync();
    }

    public async Task<IReadOnlyList<RecordedTrial>> ReadTrialsAsync(string sweep)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT trial_id, status FROM trial_results WHERE sweep = $s ORDER BY sequence";
        command.Parameters.AddWithValue("$s", sweep);
        await using var reader = await command.ExecuteReaderAsync();
        var trials = new List<RecordedTrial>();
        while (await reader.ReadAsync()) trials.Add(new RecordedTrial(reader.GetString(0), (TrialStatus)reader.GetInt32(1)));
        return trials;
    }

    public async Task<IReadOnlyList<RecordedResult>> ReadAsync(string sweep, long afterSequence = 0, int limit = int.MaxValue)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence, payload FROM trial_results WHERE sweep = $s AND sequence > $after ORDER BY sequence LIMIT $limit";
        command.Parameters.AddWithValue("$s", sweep);
        command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$limit", limit);
        await using var reader = await command.ExecuteReaderAsync();
        var records = new List<RecordedResult>();
        while (await reader.ReadAsync())
        {
            long sequence = reader.GetInt64(0);
            try { records.Add(new RecordedResult(sequence, _serializer.Deserialize<TrialResult>((byte[])reader.GetValue(1))!)); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw SweepStateUnreadableException.For(_path, $"result record {sequence} of sweep '{sweep}'", e);
            }
        }
        return records;
    }

    public async Task<long> LastSequenceAsync(string sweep)
    {
        await using var connection = Open();
        return await LastSequenceAsync(connection, null, sweep);
    }

    private static async Task<long> LastSequenceAsync(SqliteConnection connection, SqliteTransaction? transaction, string sweep)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COALESCE(MAX(sequence), 0) FROM trial_results WHERE sweep = $s";
        command.Parameters.AddWithValue("$s", sweep);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private SqliteConnection Open() => _file.Open();
}
