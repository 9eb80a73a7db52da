using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Sweeps;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.Hosting;
using OrleansSweep.TestSupport;
using StackExchange.Redis;

namespace OrleansSweep.Grains.Tests;

/// <summary>
/// The result log's contract, for each store the product ships (SQLite embedded, Redis in a cluster): one record per
/// trial whoever appends it again, in recording order, readable from any sequence on, and its (trial, status) pairs.
/// </summary>
public sealed class TrialResultLogTests : IDisposable
{
    private readonly TemporaryDirectory _dir = new("orleans-sweep-log");
    private readonly Serializer _serializer = StorageSerializer.Create();
    private RedisResultLogConnection? _redis;

    public void Dispose()
    {
        _redis?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _dir.Dispose();
    }

    private ITrialResultLog Open(string store)
    {
        if (store == "sqlite") return new SqliteTrialResultLog(_dir.Combine("state.db"), _serializer);
        _redis ??= new RedisResultLogConnection(ConfigurationOptions.Parse(Environment.GetEnvironmentVariable("ORLEANS_SWEEP_TEST_REDIS") ?? "127.0.0.1:6379"));
        return new RedisTrialResultLog(_redis.DatabaseAsync, $"log-test-{Guid.NewGuid():N}", _serializer);
    }

    private static TrialResult Done(string id, double accuracy = 0.5) => SampleResults.Completed(id, accuracy);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("redis")]
    public async Task One_record_per_trial_in_recording_order_readable_from_any_sequence(string store)
    {
        var log = Open(store);
        Assert.Equal(0, await log.LastSequenceAsync("s"));
        await log.AppendAsync("s", [Done("a"), Done("b")]);
        await log.AppendAsync("s", [Done("a", 0.9), Done("c"), Done("c", 0.9)]); // a and c again: ignored
        await log.AppendAsync("other", [Done("a", 0.1)]);                          // another sweep: its own log

        Assert.Equal(3, await log.LastSequenceAsync("s"));
        var all = await log.ReadAsync("s");
        Assert.Equal([(1L, "a"), (2L, "b"), (3L, "c")], all.Select(r => (r.Sequence, r.Result.TrialId)));
        Assert.All(all, r => Assert.Equal(0.5, r.Result.FinalTestAccuracy)); // the first record stands
        Assert.Equal([(3L, "c")], (await log.ReadAsync("s", afterSequence: 2)).Select(r => (r.Sequence, r.Result.TrialId)));
        Assert.Equal(["b"], (await log.ReadAsync("s", afterSequence: 1, limit: 1)).Select(r => r.Result.TrialId));
        Assert.Empty(await log.ReadAsync("s", afterSequence: 3));
        Assert.Equal([new RecordedTrial("a", TrialStatus.Completed), new("b", TrialStatus.Completed), new("c", TrialStatus.Completed)],
            await log.ReadTrialsAsync("s"));
        Assert.Equal(0.1, Assert.Single(await log.ReadAsync("other")).Result.FinalTestAccuracy);
    }

    [Fact]
    public void A_format_1_state_migrates_its_results_to_records_and_keeps_running_and_cancelled_trials()
    {
        var state = new SweepGrainState
        {
            FormatVersion = 1,
            StoredSpec = SampleResults.Spec,
            LegacyStatuses = { ["a"] = TrialStatus.Completed, ["b"] = TrialStatus.Running, ["c"] = TrialStatus.Cancelled, ["d"] = TrialStatus.Pending },
            LegacyResults = { ["a"] = Done("a"), ["c"] = new TrialResult { TrialId = "c", Status = TrialStatus.Cancelled } },
        };
        Assert.True(state.NeedsMigration);
        var records = state.MigrateToResultLog();
        Assert.Equal(["a"], records.Select(r => r.TrialId));
        Assert.Equal(["b"], state.Running);
        Assert.Equal(["c"], state.Cancelled.Keys);
        Assert.Empty(state.LegacyResults);
        Assert.False(state.NeedsMigration);
    }
}
