using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansSweep.Grains.Sweeps;
using StackExchange.Redis;

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
        silo.Services.Configure<SweepOptions>(o => o.UseReminders = true);
        return silo;
    }
}
