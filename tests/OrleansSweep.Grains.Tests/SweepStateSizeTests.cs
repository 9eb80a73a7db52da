using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Sweeps;
using OrleansSweep.Grains.Trials;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Grains.Tests;

/// <summary>
/// The sweep's compact state stays small whatever the grid: the spec (whose lists grow with the grid) is stored apart,
/// once, and results are records of their own. Measured on the embedded store, where a row is what each write rewrites.
/// </summary>
public sealed class SweepStateSizeTests
{
    [Fact]
    public async Task A_long_spec_is_stored_once_apart_from_the_state_that_each_change_rewrites()
    {
        using var work = new TemporaryDirectory();
        string stateFile = work.Combine("state.db");
        var cluster = await TestClusters.StartAsync(stateFile: stateFile, slotsPerDevice: 8,
            services: s => s.Replace(ServiceDescriptor.Singleton<ITrialExecutor, InstantExecutorDouble>()));
        try
        {
            // 1,500 seeds: the spec's seed list alone is several kilobytes.
            var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("long-spec", "/tmp", batchSizes: [16], learningRates: ["2^-8"], epochs: 1,
                seeds: [.. Enumerable.Range(0, 1500)]));
            var final = await cluster.RunToEndAsync(spec, TimeSpan.FromMinutes(2));
            Assert.Equal(SweepState.Completed, final.State);
            Assert.Equal(1500, final.Results.Count);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = stateFile, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT state_name, length(payload), etag FROM grain_state WHERE grain_id LIKE 'sweep/%'";
        var rows = new Dictionary<string, (long Bytes, long Writes)>();
        using (var reader = command.ExecuteReader())
            while (reader.Read()) rows[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        Assert.InRange(rows["sweepspec"].Bytes, 5_000, 100_000); // the spec, seeds and all
        Assert.Equal(1, rows["sweepspec"].Writes);              // written once
        Assert.InRange(rows["sweep"].Bytes, 1, 1_000);           // what every change rewrites
        Assert.True(rows["sweep"].Writes > 1);
    }
}
