using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace OrleansSweep.Cli;

/// <summary>Checks made before a silo starts, so the usual mistakes get one clear line instead of a failed host.</summary>
public static class Preflight
{
    public static void EnsurePortFree(string address, int port, string option)
    {
        if (port is < 1 or > 65535) throw new UsageException($"{option}: {port} (expected a TCP port, 1-65535).");
        try
        {
            using var probe = new TcpListener(IPAddress.Parse(address), port);
            probe.Start();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new UsageException($"{option}: {address}:{port} is already in use (another silo?); pick a free port.");
        }
        catch (SocketException e)
        {
            throw new UsageException($"{option}: cannot listen on {address}:{port} ({e.Message}).");
        }
    }

    public static async Task EnsureRedisReachableAsync(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = true;
        if (options.ConnectTimeout > 5000) options.ConnectTimeout = 5000;
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
            await connection.GetDatabase().PingAsync();
        }
        catch (RedisConnectionException e)
        {
            throw new ClusterUnavailableException($"cannot reach Redis at {configuration}: {e.Message.Split('.')[0]} " +
                "(start it with `redis-server`, or point --redis at the cluster's).");
        }
    }
}
