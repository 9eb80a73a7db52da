using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using OrleansSweep.Abstractions;
using OrleansSweep.Grains.Devices;
using OrleansSweep.Hosting;
using OrleansSweep.TestSupport;

namespace OrleansSweep.Grains.Tests.Hosting;

/// <summary>
/// Each configuration file the project ships (the silo host's appsettings.json, the systemd env file, the Kubernetes
/// manifest's env) bound through the real options code yields exactly the devices, slots, data roots and ports its
/// comments promise. Lists replace their defaults: before, the binder appended configured devices to the default
/// "cpu", so a GPU machine also trained on its CPU.
/// </summary>
public sealed class ShippedConfigurationTests
{
    private static string Shipped(string relative) => Path.Combine(RepositoryRoot.Path, relative);

    /// <summary>A silo's settings as its host binds them: the cluster's and the devices' (one section, two option types).</summary>
    private sealed record SiloSettings(ClusterSiloOptions Cluster, DeviceOptions Devices, MetricsOptions Metrics)
    {
        public static SiloSettings From(IConfiguration configuration) =>
            new(ClusterSiloOptions.From(configuration), DeviceOptions.From(configuration), MetricsOptions.From(configuration));
        public IReadOnlyList<string> TrainingDevices => Devices.TrainingDevices;
    }

    private static SiloSettings Bind(IEnumerable<KeyValuePair<string, string?>> settings) =>
        SiloSettings.From(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());

    /// <summary>Environment variables as .NET's environment configuration reads them: "__" separates sections.</summary>
    private static SiloSettings BindEnvironment(IEnumerable<(string Name, string Value)> variables) =>
        Bind(variables.Select(v => new KeyValuePair<string, string?>(v.Name.Replace("__", ":"), v.Value)));

    [Fact]
    public void The_silo_hosts_appsettings_yields_one_cpu_slot_on_loopback()
    {
        var (options, devices, metrics) = SiloSettings.From(new ConfigurationBuilder().AddJsonFile(Shipped("hosting/OrleansSweep.SiloHost/appsettings.json")).Build());
        Assert.Equal("http://127.0.0.1:9464/metrics", metrics.ScrapeUrl);
        Assert.Equal(["cpu"], devices.TrainingDevices);
        Assert.Equal(1, devices.SlotsPerDevice);
        Assert.Equal(["/usr/share/datasets"], options.DataRoots);
        Assert.Equal((11111, 30000, 8080), (options.SiloPort, options.GatewayPort, options.DashboardPort));
        Assert.Equal(("127.0.0.1", "127.0.0.1"), (options.Address, options.DashboardAddress));
        Assert.False(devices.AllowCpuFallback);
    }

    [Fact]
    public void The_systemd_env_file_yields_exactly_its_two_gpus()
    {
        var variables = File.ReadAllLines(Shipped("hosting/systemd/orleans-sweep.env"))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => (line[..line.IndexOf('=')], line[(line.IndexOf('=') + 1)..]));
        var (options, devices, metrics) = BindEnvironment(variables);
        Assert.Equal(["cuda:0", "cuda:1"], devices.TrainingDevices);
        Assert.Equal("http://127.0.0.1:9464/metrics", metrics.ScrapeUrl);
        Assert.Equal(2, devices.SlotsPerDevice);
        Assert.Equal(["/usr/share/datasets"], options.DataRoots);
        Assert.Equal((11111, 30000, 8080), (options.SiloPort, options.GatewayPort, options.DashboardPort));
        Assert.Equal("10.0.0.11", options.Address);
        Assert.Equal("127.0.0.1", options.DashboardAddress);
        Assert.Equal("/srv/orleans-sweep/artifacts", options.ArtifactRoot);
        Assert.False(devices.AllowCpuFallback);
    }

    [Fact]
    public void The_kubernetes_manifest_yields_its_one_gpu_and_the_dataset_volume()
    {
        string manifest = File.ReadAllText(Shipped("hosting/kubernetes/orleans-sweep.yaml"));
        var variables = Regex.Matches(manifest, """name:\s*(OrleansSweep__[A-Za-z0-9_]+)\s*,\s*value:\s*"([^"]*)"\s*\}""")
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        Assert.NotEmpty(variables);
        var (options, devices, metrics) = BindEnvironment(variables);
        Assert.Equal(["cuda:0"], devices.TrainingDevices);
        // Prometheus scrapes the pod's IP where the annotations say.
        Assert.Equal("http://0.0.0.0:9464/metrics", metrics.ScrapeUrl);
        Assert.Contains("prometheus.io/port: \"9464\"", manifest);
        Assert.Equal(2, devices.SlotsPerDevice);
        Assert.True(options.Kubernetes);
        Assert.Equal("/artifacts", options.ArtifactRoot);
        Assert.Equal((11111, 30000, 8080), (options.SiloPort, options.GatewayPort, options.DashboardPort));
        string dataRoot = Assert.Single(options.DataRoots);
        // The data root is a mounted volume of the pod, not a directory of the image.
        Assert.Matches($@"mountPath:\s*{Regex.Escape(dataRoot)}\b", manifest);
    }

    [Fact]
    public void Configured_lists_replace_their_defaults()
    {
        var options = Bind([new("OrleansSweep:Devices:0", "cuda:3"), new("OrleansSweep:DataRoots:0", "/data")]);
        Assert.Equal(["cuda:3"], options.TrainingDevices);
        Assert.Equal(["/data"], options.Cluster.DataRoots);
        var defaults = Bind([]);
        Assert.Equal(["cpu"], defaults.TrainingDevices);
        Assert.Equal(["/usr/share/datasets"], defaults.Cluster.DataRoots);
    }

    [Fact]
    public void Coordinator_only_is_expressible_in_configuration()
    {
        Assert.Empty(Bind([new("OrleansSweep:CoordinatorOnly", "true")]).TrainingDevices);
        string json = Path.Combine(Directory.CreateTempSubdirectory("silo-config-").FullName, "appsettings.json");
        File.WriteAllText(json, """{ "OrleansSweep": { "Devices": [] } }""");
        try { Assert.Empty(DeviceOptions.From(new ConfigurationBuilder().AddJsonFile(json).Build()).TrainingDevices); }
        finally { Directory.Delete(Path.GetDirectoryName(json)!, recursive: true); }
        // The environment (OrleansSweep__CoordinatorOnly=true) over the shipped appsettings.json's "Devices": ["cpu"].
        var layered = new ConfigurationBuilder()
            .AddJsonFile(Shipped("hosting/OrleansSweep.SiloHost/appsettings.json"))
            .AddInMemoryCollection([new("OrleansSweep:CoordinatorOnly", "true")]).Build();
        Assert.Empty(DeviceOptions.From(layered).TrainingDevices);
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    public void A_device_that_is_not_one_is_named(string device)
    {
        var options = Bind([new("OrleansSweep:Devices:0", device)]);
        var error = Assert.Throws<ClusterSettingException>(() => options.Devices.Validated());
        Assert.Equal($"OrleansSweep:Devices: '{device}' is not a device (expected cpu, cuda, cuda:N or auto).", error.Message);
    }

    [Fact]
    public void A_cuda_device_this_cpu_build_cannot_use_is_refused_unless_the_fallback_is_allowed()
    {
        var gpu = Bind([new("OrleansSweep:Devices:0", "cuda:0")]);
        var error = Assert.Throws<ClusterSettingException>(() => SiloPreflight.EnsureDevicesUsable(gpu.Devices, ClusterSiloOptions.ConfigurationKey));
        Assert.StartsWith("OrleansSweep:Devices: device cuda:0 requested but CUDA is not available", error.Message);
        Assert.Contains("OrleansSweep:AllowCpuFallback=true", error.Message);
        SiloPreflight.EnsureDevicesUsable(Bind([new("OrleansSweep:Devices:0", "cuda:0"), new("OrleansSweep:AllowCpuFallback", "true")]).Devices,
            ClusterSiloOptions.ConfigurationKey);
        SiloPreflight.EnsureDevicesUsable(Bind([]).Devices, ClusterSiloOptions.ConfigurationKey); // cpu: nothing to check
    }
}
