using OrleansSweep.Abstractions;
using StackExchange.Redis;

namespace OrleansSweep.Client;

/// <summary>
/// Whether the cluster's Redis answers, asked before a silo starts or a client connects: the difference between "Redis is
/// not running" and "no silo is up" is the first thing a user needs, and Orleans reports both late and in its own terms.
/// </summary>
public static class RedisProbe
{
    /// <param name="setting">How the caller spells the setting (--redis, OrleansSweep:Redis), for the message.</param>
    public static async Task EnsureReachableAsync(string configuration, string setting)
    {
        ConfigurationOptions options;
        try { options = ConfigurationOptions.Parse(configuration); }
        catch (ArgumentException e) { throw new ClusterSettingException($"{setting}: '{configuration}' is not a Redis configuration ({e.Message})."); }
        options.AbortOnConnectFail = true;
        if (options.ConnectTimeout > 5000) options.ConnectTimeout = 5000;
        options.ConnectRetry = 1;
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
            await connection.GetDatabase().PingAsync();
        }
        catch (RedisConnectionException e)
        {
            throw new ClusterUnavailableException($"cannot reach Redis at {configuration}: {e.Message.Split('.')[0]} " +
                $"(start it with `redis-server`, or point {setting} at the cluster's).");
        }
    }
}
