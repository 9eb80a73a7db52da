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
    /// <summary>One sweep of <paramref name="trials"/> instant trials on an embedded silo with SQLite state; prints timings as JSON.</summary>
    public static async Task<int> RunAsync(int trials, int slots)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"orleans-sweep-scale-{Guid.NewGuid():N}");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: LoopbackPorts.Free(), gatewayPort: LoopbackPorts.Free());
            silo.AddSqliteGrainStorage(SweepOptions.StorageName, Path.Combine(directory, "state.db"));
            silo.AddOrleansSweep(d => { d.Devices = ["cpu"]; d.SlotsPerDevice = slots; d.ThreadsPerTrial = 1; },
                s => s.DefaultMaxConcurrentTrials = slots);
            silo.Services.Replace(ServiceDescriptor.Singleton<ITrialExecutor, InstantTrialExecutorDouble>());
        });
        using var host = builder.Build();
        await host.StartAsync();
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
            var clock = Stopwatch.StartNew();
            await client.StartAsync(spec);
            SweepSnapshot? last = null;
            await foreach (var snapshot in client.WatchAsync(spec.Name, TimeSpan.FromMilliseconds(20))) last = snapshot;
            double engineSeconds = clock.Elapsed.TotalSeconds;
            var aggregateClock = Stopwatch.StartNew();
            var grids = ResultGrid.Build(spec, last!.Results);
            StudyFiles.Write(directory, new StudyResults(spec, GridExpander.Expand(spec), last.Results));
            double aggregateSeconds = aggregateClock.Elapsed.TotalSeconds;
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                trials = last.TotalTrials, recorded = last.Results.Count, slots,
                dispatch_persist_record_seconds = Math.Round(engineSeconds, 2),
                aggregate_and_write_seconds = Math.Round(aggregateSeconds, 2),
                state_db_mib = Math.Round(new FileInfo(Path.Combine(directory, "state.db")).Length / 1048576.0, 1),
                grids = grids.Count,
            }));
            return last.Results.Count == last.TotalTrials ? 0 : 1;
        }
        finally
        {
            await host.StopAsync();
            Directory.Delete(directory, recursive: true);
        }
    }
}
