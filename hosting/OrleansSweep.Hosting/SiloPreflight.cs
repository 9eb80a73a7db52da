using System.Net;
using System.Net.Sockets;
using OrleansSweep.Abstractions;
using OrleansSweep.Core.Devices;
using OrleansSweep.Training.Native;
using OrleansSweep.Training.Trainer;
using StackExchange.Redis;
using OrleansSweep.Client;
using OrleansSweep.Grains.Devices;
using Microsoft.Extensions.Configuration;

namespace OrleansSweep.Hosting;


/// <summary>
/// Checks made before a silo starts, so the usual mistakes (a port in use, Redis not running) get one clear line naming
/// the setting, instead of a host that fails half-way through starting with Orleans' stack traces in the log.
/// Shared by `orleans-sweep silo` and the standalone silo host; each passes how it spells setting names.
/// </summary>
public static class SiloPreflight
{
    /// <summary>Checks the silo's settings as <paramref name="configuration"/> gives them (the same binding the host uses).</summary>
    public static async Task CheckAsync(IConfiguration configuration, Func<string, string>? settingName = null)
    {
        settingName ??= ClusterSiloOptions.ConfigurationKey;
        var options = ClusterSiloOptions.From(configuration);
        options.Validate(settingName);
        EnsureDevicesUsable(DeviceOptions.From(configuration).Validated(settingName), settingName);
        // Local mistakes before remote ones: the certificate file, then the ports, then Redis.
        if (options.TlsCertificate is { } certificate) ClusterTls.Load(certificate).Dispose();
        if (!options.Kubernetes) // in a pod, Kubernetes hosting binds the pod's IP: nothing here to probe
        {
            EnsurePortFree(options.Address, options.SiloPort, settingName(nameof(ClusterSiloOptions.SiloPort)));
            EnsurePortFree(options.Address, options.GatewayPort, settingName(nameof(ClusterSiloOptions.GatewayPort)));
        }
        if (options.DashboardPort != 0)
            EnsurePortFree(options.DashboardAddress, options.DashboardPort, settingName(nameof(ClusterSiloOptions.DashboardPort)));
        CheckMetrics(MetricsOptions.From(configuration), settingName);
        await RedisProbe.EnsureReachableAsync(options.Redis, settingName(nameof(ClusterSiloOptions.Redis)));
    }

    /// <summary>
    /// A configured cuda:N this build or machine cannot use is refused (unless <see cref="DeviceOptions.AllowCpuFallback"/>):
    /// otherwise every trial sent here would quietly train on the CPU. Loads the native backend only when a CUDA device
    /// is configured, so coordinators and CPU silos start as before.
    /// </summary>
    public static void EnsureDevicesUsable(DeviceOptions options, Func<string, string> settingName)
    {
        if (options.AllowCpuFallback) return;
        var cuda = options.TrainingDevices.Select(DeviceName.Parse).Where(d => d.IsCuda).ToList();
        if (cuda.Count == 0) return;
        TorchNativeLoader.EnsureLoaded();
        foreach (var device in cuda)
            if (TorchDevices.Unavailability(device) is { } why)
                throw new ClusterSettingException($"{settingName(nameof(DeviceOptions.Devices))}: {why}, so this silo would train on its CPU; " +
                                                  $"configure cpu, or set {settingName(nameof(DeviceOptions.AllowCpuFallback))}=true to accept that.");
    }

    /// <summary>The metrics settings, and their scrape port free.</summary>
    public static void CheckMetrics(MetricsOptions metrics, Func<string, string> settingName)
    {
        if (metrics.Problem(settingName) is { } problem) throw new ClusterSettingException(problem);
        if (metrics.MetricsPort != 0) EnsurePortFree(metrics.MetricsAddress, metrics.MetricsPort, settingName(nameof(MetricsOptions.MetricsPort)));
    }

    public static void EnsurePortFree(string address, int port, string setting)
    {
        if (port is < 1 or > 65535) throw new ClusterSettingException($"{setting}: {port} (expected a TCP port, 1-65535).");
        try
        {
            using var probe = new TcpListener(IPAddress.Parse(address), port);
            probe.Start();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new ClusterSettingException($"{setting}: {address}:{port} is already in use (another silo?); pick a free port.");
        }
        catch (SocketException e)
        {
            throw new ClusterSettingException($"{setting}: cannot listen on {address}:{port} ({e.Message}).");
        }
    }
}
