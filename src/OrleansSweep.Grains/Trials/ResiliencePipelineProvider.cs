using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace OrleansSweep.Grains.Trials;

/// <summary>Polly pipelines for short, in-call resilience (long back-offs belong in persisted sweep state).</summary>
public sealed class ResiliencePipelineProvider
{
    /// <summary>Reporting a trial's result to its sweep: exponential back-off with jitter, bounded attempts.</summary>
    public ResiliencePipeline Reporting { get; } = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 6,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not ArgumentException),
        })
        .AddTimeout(new TimeoutStrategyOptions { Timeout = TimeSpan.FromSeconds(45) })
        .Build();
}
