using Microsoft.Data.Sqlite;

namespace OrleansSweep.Hosting;

/// <summary>
/// The SQLite file both embedded stores share (a study's state.db): the grain state (<see cref="SqliteGrainStorage"/>)
/// and the result log (<see cref="SqliteTrialResultLog"/>). WAL, so readers (a snapshot, a pull) never block the writer.
/// </summary>
public sealed class SqliteStateFile
{
    private readonly string _connectionString;

    /// <param name="schema">Statements that create what the store needs if it is missing (run once, here).</param>
    public SqliteStateFile(string databasePath, string schema)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = databasePath, DefaultTimeout = 30, Pooling = true }.ToString();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL;\n" + schema;
        command.ExecuteNonQuery();
    }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }
}
