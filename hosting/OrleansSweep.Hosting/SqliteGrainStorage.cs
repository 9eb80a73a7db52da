using Microsoft.Data.Sqlite;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansSweep.Abstractions;

namespace OrleansSweep.Hosting;

/// <summary>
/// Grain state in one SQLite file (the embedded mode's study directory), so a killed process resumes where it was.
/// State is serialized with Orleans' serializer (fields carry [Id]s: later versions read older rows). Optimistic
/// concurrency through an integer ETag per row; a write that lost the race throws <see cref="InconsistentStateException"/>.
/// </summary>
/// <remarks>
/// Orleans ships no file-system storage and its ADO.NET provider needs SQL scripts that are not in its packages, so
/// this small provider is written here.
/// </remarks>
public sealed class SqliteGrainStorage : IGrainStorage
{
    private readonly SqliteStateFile _file;
    private readonly Serializer _serializer;

    private readonly string _path;

    public SqliteGrainStorage(string databasePath, Serializer serializer)
    {
        (_serializer, _path) = (serializer, databasePath);
        _file = new SqliteStateFile(databasePath, """
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS grain_state (
                state_name TEXT NOT NULL,
                grain_id   TEXT NOT NULL,
                etag       INTEGER NOT NULL,
                payload    BLOB NOT NULL,
                PRIMARY KEY (state_name, grain_id));
            """);
    }

    /// <summary>
    /// Fails fast, in one line, when an existing state file is not a SQLite database of ours (random bytes, a truncated
    /// copy): otherwise the silo's start would retry against it for minutes, deaf to Ctrl-C. A missing file is fine
    /// (a new study).
    /// </summary>
    public static void EnsureReadable(string databasePath)
    {
        if (!File.Exists(databasePath)) return;
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, DefaultTimeout = 5, Pooling = false,
            }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA quick_check; SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'grain_state';";
            using var reader = command.ExecuteReader();
            if (!reader.Read() || reader.GetString(0) != "ok") throw new SqliteException("the database fails its integrity check", 11);
        }
        catch (SqliteException e)
        {
            throw new Core.UserErrorException($"{databasePath}: not a readable sweep state ({e.Message.TrimEnd('.')}); move it aside " +
                "(e.g. to state.db.corrupt) and run the study again: finished trials resume from their checkpoints.");
        }
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT etag, payload FROM grain_state WHERE state_name = $s AND grain_id = $g";
        command.Parameters.AddWithValue("$s", stateName);
        command.Parameters.AddWithValue("$g", grainId.ToString());
        await using var reader = await command.ExecuteReaderAsync();
        if (await reader.ReadAsync())
        {
            grainState.ETag = reader.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture);
            try { grainState.State = _serializer.Deserialize<T>((byte[])reader.GetValue(1)); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Rows damaged inside a sound SQLite file: say which file, once, instead of a retried activation failure.
                throw SweepStateUnreadableException.For(_path, $"the stored state '{stateName}' of {grainId}", e);
            }
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.State = Activator.CreateInstance<T>();
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        byte[] payload = _serializer.SerializeToArray(grainState.State);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        long next;
        if (grainState.ETag is null)
        {
            next = 1;
            command.CommandText = "INSERT OR IGNORE INTO grain_state (state_name, grain_id, etag, payload) VALUES ($s, $g, 1, $p)";
        }
        else
        {
            long current = long.Parse(grainState.ETag, System.Globalization.CultureInfo.InvariantCulture);
            next = current + 1;
            command.CommandText = "UPDATE grain_state SET etag = $next, payload = $p WHERE state_name = $s AND grain_id = $g AND etag = $current";
            command.Parameters.AddWithValue("$current", current);
            command.Parameters.AddWithValue("$next", next);
        }
        command.Parameters.AddWithValue("$s", stateName);
        command.Parameters.AddWithValue("$g", grainId.ToString());
        command.Parameters.AddWithValue("$p", payload);
        if (await command.ExecuteNonQueryAsync() != 1)
            throw new InconsistentStateException($"state '{stateName}' of {grainId} was changed by another writer (expected ETag {grainState.ETag ?? "none"}).");
        grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM grain_state WHERE state_name = $s AND grain_id = $g";
        command.Parameters.AddWithValue("$s", stateName);
        command.Parameters.AddWithValue("$g", grainId.ToString());
        await command.ExecuteNonQueryAsync();
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    private SqliteConnection Open() => _file.Open();
}
