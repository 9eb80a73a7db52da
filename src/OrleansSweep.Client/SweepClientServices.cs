using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using OrleansSweep.Abstractions;

namespace OrleansSweep.Client;

/// <summary>Where a client finds its cluster: the silos' Redis, their cluster and service ids, and TLS if they use it.</summary>
public sealed class SweepClientOptions
{
    /// <summary>StackExchange.Redis configuration string of the cluster's membership table.</summary>
    public string Redis { get; set; } = "127.0.0.1:6379";
    public string ClusterId { get; set; } = "orleans-sweep";
    public string ServiceId { get; set; } = "orleans-sweep";
    /// <summary>PKCS#12 file of the cluster's certificate when the silos use mutual TLS (password: ORLEANS_SWEEP_TLS_PASSWORD).</summary>
    public string? TlsCertificate { get; set; }
}

public static class SweepClientServices
{
    /// <summary>
    /// Everything a program needs to talk to an OrleansSweep cluster: Redis clustering, the cluster's ids, mutual TLS
    /// when <see cref="SweepClientOptions.TlsCertificate"/> is set, the sweep serializers, and <see cref="SweepClient"/>
    /// with its retry pipeline (Polly's registry: retries are logged and counted). Resolve
    /// <see cref="SweepClient"/> from the host's services.
    /// </summary>
    public static IClientBuilder AddOrleansSweepClient(this IClientBuilder client, Action<SweepClientOptions>? configure = null)
    {
        var options = new SweepClientOptions();
        configure?.Invoke(options);
        client.Configure<ClusterOptions>(o => { o.ClusterId = options.ClusterId; o.ServiceId = options.ServiceId; });
        client.UseRedisClustering(options.Redis);
        if (options.TlsCertificate is { } path)
        {
            var tls = ClusterTls.Load(path);
            client.UseTls(tls, o => ClusterTls.Configure(o, tls));
        }
        client.Services.AddOrleansSweepClientCalls();
        return client;
    }

    /// <summary>
    /// The serializers and <see cref="SweepClient"/> with its registered retry pipeline, for a process that already has
    /// a grain factory (a co-hosted client, the embedded mode).
    /// </summary>
    public static IServiceCollection AddOrleansSweepClientCalls(this IServiceCollection services)
    {
        services.AddSerializer(s => s.AddOrleansSweepSerializers());
        services.AddResiliencePipeline(SweepClient.PipelineName, builder => builder.AddSweepClientCalls());
        services.AddQuietResilienceTelemetry();
        services.TryAddTransient<SweepClient>();
        return services;
    }

    /// <summary>The client's calls: a 3-minute budget, retried with exponential back-off and jitter while the cluster fails over.</summary>
    public static ResiliencePipelineBuilder AddSweepClientCalls(this ResiliencePipelineBuilder builder) => builder
        .AddTimeout(TimeSpan.FromMinutes(3))
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 60,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromSeconds(5),
            ShouldHandle = new PredicateBuilder().Handle<Exception>(SweepClientCalls.IsRetryable),
        });
}

/// <summary>Which failures of a call to a sweep are worth retrying, and which mean the cluster is gone.</summary>
public static class SweepClientCalls
{
    /// <summary>Anything but an answer (a refusal, an unknown sweep) or the caller giving up.</summary>
    public static bool IsRetryable(Exception e) => e is not (ArgumentException or OperationCanceledException) && Core.UserErrors.Find(e) is null;

    /// <summary>A failure that, once retries are spent, means the cluster could not be reached (not a bug).</summary>
    public static bool IsUnreachable(Exception e) =>
        e is TimeoutException or TimeoutRejectedException or SiloUnavailableException or OrleansMessageRejectionException
            or SweepStoreUnavailableException;
}
