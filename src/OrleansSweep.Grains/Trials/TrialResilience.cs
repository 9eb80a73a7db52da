using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace OrleansSweep.Grains.Trials;

/// <summary>
/// Polly pipelines for short, in-call resilience on a silo, registered by name in Polly's registry so each retry is
/// logged and counted (long back-offs belong in the sweep's persisted state, not here).
/// </summary>
public static class TrialResilience
{
    /// <summary>Reporting a trial's result to its sweep.</summary>
    public const string ReportResult = "trial-report-result";

    /// <summary>Exponential back-off with jitter, bounded attempts; a refusal (ArgumentException) is an answer, not retried.</summary>
    public static ResiliencePipelineBuilder AddResultReporting(this ResiliencePipelineBuilder builder) => builder
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 6,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not ArgumentException),
        })
        .AddTimeout(new TimeoutStrategyOptions { Timeout = TimeSpan.FromSeconds(45) });
}
