using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansSweep.Grains.Sweeps;
using StackExchange.Redis;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace OrleansSweep.Hosting;

public static class RedisClusterExtensions
{
    /// <summary>
    /// Cluster mode: membership, sweep state and reminders in Redis. Reminders wake unfinished sweeps after a whole-
    /// cluster restart without anyone asking. State uses Orleans' binary serializer (fields carry [Id]s), as the
    /// embedded SQLite store does.
    /// </summary>
    public static ISiloBuilder UseOrleansSweepRedis(this ISiloBuilder silo, string redisConfiguration, bool clustering = true)
    {
        var redis = ConfigurationOptions.Parse(redisConfiguration);
        if (clustering) silo.UseRedisClustering(o => o.ConfigurationOptions = redis.Clone());
        silo.AddRedisGrainStorage(SweepOptions.StorageName, options => options.Configure<Serializer>((o, serializer) =>
        {
            o.ConfigurationOptions = redis.Clone();
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        silo.UseRedisReminderService(o => o.ConfigurationOptions = redis.Clone());
        // Results: one record per trial beside the sweep's compact state (RedisTrialResultLog).
        silo.Services.AddSingleton(_ => new RedisResultLogConnection(redis.Clone()));
        silo.Services.AddSingleton<ITrialResultLog>(services => new RedisTrialResultLog(
            services.GetRequiredService<RedisResultLogConnection>().DatabaseAsync,
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            services.GetRequiredService<Serializer>()));
        silo.Services.Configure<SweepOptions>(o => o.UseReminders = true);
        return silo;
    }
}

/// <summary>The result log's Redis connection: opened on first use, closed with the silo.</summary>
public sealed class RedisResultLogConnection(ConfigurationOptions configuration) : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(() => ConnectionMultiplexer.ConnectAsync(configuration));

    public async Task<IDatabase> DatabaseAsync() => (await _connection.Value).GetDatabase();

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated) await (await _connection.Value).DisposeAsync();
    }
}
