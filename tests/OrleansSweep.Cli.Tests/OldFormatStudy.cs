using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.Hosting;

namespace OrleansSweep.Cli.Tests;

/// <summary>
/// Turns a study's state.db into what the version before the result log wrote: one state value of format 1 holding
/// every trial's status and every result, and no result rows.
/// </summary>
public static class OldFormatStudy
{
    /// <summary>Returns the id of a trial whose result the old state keeps; <paramref name="unfinished"/> becomes pending.</summary>
    public static string Rewrite(string stateFile, string unfinished)
    {
        var (serializer, connection, grainId, state) = Open(stateFile);
        using (connection)
        {
            state.Spec = state.StoredSpec;
            var log = new SqliteTrialResultLog(stateFile, serializer);
            var results = log.ReadAsync(state.Spec!.Name).GetAwaiter().GetResult().Select(r => r.Result).Where(r => r.TrialId != unfinished).ToList();
            state.FormatVersion = 1;
            state.LegacyResults = results.ToDictionary(r => r.TrialId);
            state.LegacyStatuses = Core.Trials.GridExpander.Expand(state.Spec).ToDictionary(t => t.TrialId,
                t => state.LegacyResults.TryGetValue(t.TrialId, out var r) ? r.Status : TrialStatus.Pending);
            state.State = Core.Sweeps.SweepState.Running;
            Write(connection, serializer, grainId, state, "DROP TABLE trial_results;");
            return results.Single().TrialId;
        }
    }

    /// <summary>Turns a study's state.db into what the version before the spec moved out wrote (format 2): the spec inside the state.</summary>
    public static void RewriteAsFormat2(string stateFile)
    {
        var (serializer, connection, grainId, state) = Open(stateFile);
        using (connection)
        {
            state.FormatVersion = 2;
            Write(connection, serializer, grainId, state);
        }
    }

    /// <summary>The study's sweep state as stored, with its spec (format 3 keeps it in a state of its own) in <c>StoredSpec</c>.</summary>
    private static (Serializer Serializer, SqliteConnection Connection, string GrainId, SweepGrainState State) Open(string stateFile)
    {
        var serializer = new ServiceCollection()
            .AddSerializer(s => { s.AddAssembly(typeof(SweepGrainState).Assembly); s.AddOrleansSweepSerializers(); })
            .BuildServiceProvider().GetRequiredService<Serializer>();
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = stateFile, Pooling = false }.ToString());
        connection.Open();
        string grainId;
        SweepGrainState state;
        using (var read = connection.CreateCommand())
        {
            read.CommandText = "SELECT grain_id, payload FROM grain_state WHERE state_name = 'sweep'";
            using var reader = read.ExecuteReader();
            Assert.True(reader.Read());
            grainId = reader.GetString(0);
            state = serializer.Deserialize<SweepGrainState>((byte[])reader.GetValue(1))!;
        }
        using (var read = connection.CreateCommand())
        {
            read.CommandText = "SELECT payload FROM grain_state WHERE state_name = 'sweepspec' AND grain_id = $g";
            read.Parameters.AddWithValue("$g", grainId);
            state.StoredSpec = serializer.Deserialize<SweepSpecState>((byte[])read.ExecuteScalar()!)!.Spec;
        }
        return (serializer, connection, grainId, state);
    }

    /// <summary>Stores the rewritten state as the one value of the study, its own spec state gone (older formats had none).</summary>
    private static void Write(SqliteConnection connection, Serializer serializer, string grainId, SweepGrainState state, string alsoSql = "")
    {
        using var write = connection.CreateCommand();
        write.CommandText = "UPDATE grain_state SET payload = $p WHERE state_name = 'sweep' AND grain_id = $g; " +
                            "DELETE FROM grain_state WHERE state_name = 'sweepspec'; " + alsoSql;
        write.Parameters.AddWithValue("$p", serializer.SerializeToArray(state));
        write.Parameters.AddWithValue("$g", grainId);
        write.ExecuteNonQuery();
    }
}
