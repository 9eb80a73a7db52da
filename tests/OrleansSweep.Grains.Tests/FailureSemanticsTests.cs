using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.TestingHost;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Results;
using OrleansSweep.Core.Specs;
using OrleansSweep.Core.Trials;
using OrleansSweep.Grains.Trials;
using OrleansSweep.TestSupport;
using OrleansSweep.Core.Sweeps;

namespace OrleansSweep.Grains.Tests;

/// <summary>
/// Test double: the real TorchSharp executor, except that trials whose id contains "lr2^-7" throw an I/O error on
/// their first attempt and trials whose id contains "lr2^-6" always do.
/// </summary>
public sealed class FlakyExecutorDouble(TorchTrialExecutor real) : ITrialExecutor
{
    private readonly HashSet<string> _failedOnce = [];

    public TrialResult Execute(TrialSpec trial, string device, int threads, IProgress<EpochMetrics> progress, CancellationToken cancellation)
    {
        lock (_failedOnce)
        {
            if (trial.TrialId.Contains("lr2^-6")) throw new IOException("storage hiccup (always)");
            if (trial.TrialId.Contains("lr2^-7") && _failedOnce.Add(trial.TrialId)) throw new IOException("storage hiccup (once)");
        }
        return real.Execute(trial, device, threads, progress, cancellation);
    }
}

public sealed class FailureSemanticsTests : IAsyncLifetime
{
    private readonly TemporaryDirectory _data = new("orleans-sweep-faults");
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        SyntheticFashion.Write(_data.Path, trainCount: 64, testCount: 20);
        _cluster = await TestClusters.StartAsync(services: s =>
        {
            s.AddSingleton<TorchTrialExecutor>();
            s.Replace(ServiceDescriptor.Singleton<ITrialExecutor, FlakyExecutorDouble>());
        });
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task Transient_failures_are_retried_boundedly_and_divergence_is_never_retried()
    {
        var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("faults", _data.Path, batchSizes: [16],
            learningRates: ["2^-8", "2^-7", "2^-6", "2^4"], epochs: 1));

        var final = await _cluster.RunToEndAsync(spec);

        Assert.Equal(SweepState.Completed, final.State);
        var plain = final.Results["bs16-lr2^-8-none-s0"];
        Assert.False(final.TransientFailures.ContainsKey(plain.TrialId), "the plain trial was retried");
        Assert.Equal((TrialStatus.Completed, 1), (plain.Status, plain.Attempts));

        var flaky = final.Results["bs16-lr2^-7-none-s0"];
        Assert.Equal((TrialStatus.Completed, 2), (flaky.Status, flaky.Attempts));
        Assert.Equal(1, final.TransientFailures["bs16-lr2^-7-none-s0"]);

        var broken = final.Results["bs16-lr2^-6-none-s0"];
        Assert.Equal((TrialStatus.Failed, FailureKind.Transient, 3), (broken.Status, broken.FailureKind, broken.Attempts));
        Assert.Contains("storage hiccup (always) (gave up after 3 attempts)", broken.FailureReason);

        var diverged = final.Results["bs16-lr2^4-none-s0"];
        Assert.Equal((TrialStatus.Diverged, 1), (diverged.Status, diverged.Attempts));
        Assert.False(final.TransientFailures.ContainsKey("bs16-lr2^4-none-s0"));
    }

    [Fact]
    public async Task Deterministic_failures_fail_fast_without_retry()
    {
        using var broken = new TemporaryDirectory();
        SyntheticFashion.Write(broken.Path, trainCount: 64, testCount: 10);
        File.WriteAllBytes(Path.Combine(broken.Path, "train-images-idx3-ubyte.gz"), [9, 9, 9]);
        var spec = SweepSpecLoader.Parse(SyntheticFashion.SpecJson("deterministic", broken.Path, learningRates: ["2^-8"], epochs: 1));

        var final = await _cluster.RunToEndAsync(spec);

        var result = Assert.Single(final.Results.Values);
        Assert.Equal((TrialStatus.Failed, FailureKind.Deterministic, 1), (result.Status, result.FailureKind, result.Attempts));
        Assert.Empty(final.TransientFailures);
    }
}
