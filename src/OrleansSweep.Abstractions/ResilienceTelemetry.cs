using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Telemetry;

namespace OrleansSweep.Abstractions;

/// <summary>
/// How Polly's telemetry reports the pipelines of a process (ours and Orleans' own): every retry is counted (Polly's
/// "Polly" meter) and logged at Information, each failed attempt at Debug. Polly's defaults log both at Warning with
/// the exception's stack trace, which during a silo's graceful stop (its calls fail until they are re-routed) buries
/// the one line that says what happened. A pipeline that finally gives up is said by its caller.
/// </summary>
public static class ResilienceTelemetry
{
    public static IServiceCollection AddQuietResilienceTelemetry(this IServiceCollection services) =>
        services.Configure<TelemetryOptions>(o => o.SeverityProvider = args => args.Event.EventName switch
        {
            "ExecutionAttempt" => ResilienceEventSeverity.Debug,
            "OnRetry" => ResilienceEventSeverity.Information,
            _ => args.Event.Severity,
        });
}
