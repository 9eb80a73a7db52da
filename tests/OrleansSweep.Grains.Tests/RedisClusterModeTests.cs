using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.TestSupport;
using StackExchange.Redis;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Tests;

/// <summary>Cluster mode against a real Redis on loopback (.ci/run starts redis-server; ORLEANS_SWEEP_TEST_REDIS overrides).</summary>
public sealed class RedisClusterModeTests
{
    private static readonly string Redis = Environment.GetEnvironmentVariable("ORLEANS_SWEEP_TEST_REDIS") ?? "127.0.0.1:6379";

    private static async Task RequireRedisAsync()
    {
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(Redis + ",connectTimeout=2000,abortConnect=true");
            await connection.GetDatabase().PingAsync();
        }
        catch (RedisConnectionException e)
        {
            Assert.Fail($"These tests need Redis at {Redis} (start it with `redis-server`; .ci/run does): {e.Message}");
        }
    }

    [Fact]
    public async Task After_a_whole_cluster_restart_the_sweep_resumes_by_itself()
    {
        await RequireRedisAsync();
        using var work = new TemporaryDirectory("orleans-sweep-redis");
        SyntheticFashion.Write(work.Combine("data"), trainCount: 128, testCount: 20);
        string serviceId = $"sweep-test-{Guid.NewGuid():N}";
        string artifacts = work.Combine("artifacts");
        var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("redis-restart", work.Combine("data"), batchSizes: [16],
            // 30 epochs of ~0.2 s: the cluster is stopped after the first, with ample margin before a trial could end.
            learningRates: ["2^-8", "2^-7"], epochs: 30));

        await using (var first = await TestClusters.StartAsync(redis: Redis, serviceId: serviceId, artifactRoot: artifacts,
            leaseDuration: TimeSpan.FromSeconds(2)))
        {
            var client = new SweepClient(first.Client);
            await client.StartAsync(spec);
            await client.FirstEpochDoneAsync(spec.Name);
            await first.StopAllSilosAsync(); // the whole cluster goes down mid-sweep
        }

        await using var second = await TestClusters.StartAsync(redis: Redis, serviceId: serviceId, artifactRoot: artifacts,
            leaseDuration: TimeSpan.FromSeconds(2));
        // Nobody calls the sweep: its reminder must wake it. Watch the artifacts, not the grain (a call would activate it).
        var finals = new[] { "bs16-lr2^-8-none-s0", "bs16-lr2^-7-none-s0" }.Select(t => Path.Combine(artifacts, "trials", t, "final.pt")).ToList();
        var until = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < until && !finals.All(File.Exists)) await Task.Delay(200);
        Assert.True(finals.All(File.Exists), "the sweep did not resume by itself after the restart");

        var final = await new SweepClient(second.Client).WatchToEndAsync(spec.Name);
        Assert.Equal(SweepState.Completed, final.State);
        Assert.All(final.Results.Values, r => Assert.Equal((TrialStatus.Completed, 30), (r.Status, r.Epochs.Count)));
        Assert.Contains(final.Results.Values, r => r.ResumedFromEpoch >= 1);
    }
}
