using OrleansSweep.Reporting;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansSweep.Abstractions;
using OrleansSweep.Client;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Hosting;
using OrleansSweep.Grains.Sweeps;
using OrleansSweep.Grains.Trials;
using OrleansSweep.Grains;
using OrleansSweep.Study;

namespace OrleansSweep.Benchmarks;

/// <summary>
/// Test double for scale measurements: "trains" instantly, with an accuracy computed from the cell, so the engine's own
/// costs (dispatch, persistence, result recording, aggregation) are all that is measured. Never used by the product.
/// </summary>
public sealed class InstantTrialExecutorDouble : ITrialExecutor
{
    public TrialResult Execute(TrialSpec trial, string device, int threads, IProgress<EpochMetrics> progress, CancellationToken cancellation)
    {
        double accuracy = 0.9 - 0.01 * Math.Abs(Math.Log2(trial.BaseLearningRate) + 8) - 0.001 * Math.Log2(trial.BatchSize);
        var epoch = new EpochMetrics(1, 1 - accuracy, 1 - accuracy, accuracy, 0);
        progress.Report(epoch);
        return new TrialResult
        {
            TrialId = trial.TrialId, Status = TrialStatus.Completed, Epochs = [epoch],
            FinalTestAccuracy = accuracy, FinalTestLoss = 1 - accuracy, Device = device,
        };
    }
}

public static class SweepScale
{
    /// <summary>
    /// One sweep of <paramref name="trials"/> instant trials on one silo, its state in SQLite (embedded) or, with
    /// <paramref name="redis"/>, in Redis (the cluster's store); prints the engine's costs as JSON: time to record every
    /// result, results per second, peak resident memory, the sweep state's size, bytes sent to Redis per result, the
    /// size of a watch poll with nothing new, and the time to pull every result as a study would.
    /// </summary>
    public static async Task<int> RunAsync(int trials, int slots, string? redis = null)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"orleans-sweep-scale-{Guid.NewGuid():N}");
        string serviceId = $"scale-{Guid.NewGuid():N}";
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: LoopbackPorts.Free(), gatewayPort: LoopbackPorts.Free(), serviceId: serviceId);
            if (redis is null) silo.AddSqliteGrainStorage(SweepOptions.StorageName, Path.Combine(directory, "state.db"));
            else silo.UseOrleansSweepRedis(redis, clustering: false);
            silo.AddOrleansSweep(d => { d.Devices = ["cpu"]; d.SlotsPerDevice = slots; d.ThreadsPerTrial = 1; },
                s => s.DefaultMaxConcurrentTrials = slots);
            silo.Services.Replace(ServiceDescriptor.Singleton<ITrialExecutor, InstantTrialExecutorDouble>());
        });
        using var host = builder.Build();
        await host.StartAsync();
        await using var redisProbe = redis is null ? null : await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis + ",allowAdmin=true");
        try
        {
            // batch sizes x learning rates x seeds = trials (one BN mode)
            int seeds = Math.Max(1, trials / 100);
            var spec = new SweepSpec
            {
                Name = $"scale-{trials}",
                Dataset = new DatasetSpec { Name = "fashion-mnist" },
                Model = new ModelSpec { Architecture = "resnet8" },
                Training = new TrainingSpec { Epochs = 1 },
                Grid = new GridSpec
                {
                    BatchSizes = Enumerable.Range(0, 10).Select(i => 1 << i).ToList(),
                    BaseLearningRates = Enumerable.Range(0, trials / 10 / seeds).Select(i => Math.Pow(2, -i)).ToList(),
                    Seeds = Enumerable.Range(0, seeds).ToList(),
                },
            };
            var client = new SweepClient(host.Services.GetRequiredService<IGrainFactory>());
            long redisBytesBefore = await RedisInputBytesAsync(redisProbe);
            var clock = Stopwatch.StartNew();
            await client.SubmitAsync(spec);
            // Watch as `watch` does, by changes, but without keeping the results (a million of them are the pull's).
            SweepChanges changes;
            while (!(changes = await client.GetChangesAsync(spec.Name, long.MaxValue, SpecFingerprint.Compute(spec), 1)).IsDone)
                await Task.Delay(200);
            double engineSeconds = clock.Elapsed.TotalSeconds;
            long redisBytes = await RedisInputBytesAsync(redisProbe) - redisBytesBefore;
            long peakBytes = Process.GetCurrentProcess().PeakWorkingSet64;

            var serializer = host.Services.GetRequiredService<Orleans.Serialization.Serializer>();
            var nothingNew = await client.GetChangesAsync(spec.Name, changes.Recorded, SpecFingerprint.Compute(spec));
            int pollBytes = serializer.SerializeToArray(nothingNew).Length;

            // Pull every result in pages, as `pull` does for a study.
            var pullClock = Stopwatch.StartNew();
            long pulled = 0, after = 0;
            var results = trials <= 100_000 ? new Dictionary<string, TrialResult>() : null;
            do
            {
                changes = await client.GetChangesAsync(spec.Name, after, SpecFingerprint.Compute(spec));
                pulled += changes.Results.Count;
                if (changes.Results.Count > 0) after = changes.Results[^1].Sequence;
                foreach (var record in changes.Results) results?.TryAdd(record.Result.TrialId, record.Result);
            } while (changes.More);
            double pullSeconds = pullClock.Elapsed.TotalSeconds;

            double? aggregateSeconds = null;
            if (results is not null)
            {
                var aggregateClock = Stopwatch.StartNew();
                ResultGrid.Build(spec, results);
                StudyFiles.Write(directory, new StudyResults(spec, GridExpander.Expand(spec), results));
                aggregateSeconds = Math.Round(aggregateClock.Elapsed.TotalSeconds, 2);
            }
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                trials = changes.TotalTrials, recorded = pulled, slots, store = redis is null ? "sqlite" : "redis",
                dispatch_persist_record_seconds = Math.Round(engineSeconds, 2),
                engine_ms_per_trial = Math.Round(engineSeconds * 1000 / trials, 3),
                results_per_second = Math.Round(trials / engineSeconds),
                peak_rss_mib = Math.Round(peakBytes / 1048576.0),
                state_db_mib = redis is null ? Math.Round(new FileInfo(Path.Combine(directory, "state.db")).Length / 1048576.0, 1) : (double?)null,
                redis_bytes_in_per_result = redis is null ? (double?)null : Math.Round((double)redisBytes / trials),
                watch_poll_nothing_new_bytes = pollBytes,
                pull_all_seconds = Math.Round(pullSeconds, 2),
                aggregate_and_write_seconds = aggregateSeconds,
            }));
            return pulled == changes.TotalTrials ? 0 : 1;
        }
        finally
        {
            await host.StopAsync();
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Bytes Redis has received from all clients so far (INFO stats' total_net_input_bytes); 0 without Redis.</summary>
    private static async Task<long> RedisInputBytesAsync(StackExchange.Redis.ConnectionMultiplexer? redis)
    {
        if (redis is null) return 0;
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var info = await server.InfoAsync("stats");
        return long.Parse(info.SelectMany(g => g).First(p => p.Key == "total_net_input_bytes").Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
