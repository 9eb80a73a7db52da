using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OrleansSweep.Grains.Devices;

namespace OrleansSweep.Grains.Tests.Hosting;

/// <summary>The device options as a host binds them: from configuration keys, defaults applied, checked when the host starts.</summary>
public sealed class OptionsValidationTests
{
    private static IHost Host(params (string Key, string Value)[] settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.Services.AddDeviceOptions();
        return builder.Build();
    }

    [Fact]
    public async Task A_host_with_a_wrong_device_setting_does_not_start_and_the_key_is_named()
    {
        using var host = Host(("OrleansSweep:SlotsPerDevice", "0"));
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Equal("OrleansSweep:SlotsPerDevice: 0 (expected >= 1).", Assert.Single(error.Failures));
    }

    [Fact]
    public async Task Configured_devices_replace_the_default_and_the_host_sees_exactly_them()
    {
        using var host = Host(("OrleansSweep:Devices:0", "cuda:1"), ("OrleansSweep:SlotsPerDevice", "3"));
        await host.StartAsync();
        var devices = host.Services.GetRequiredService<IOptions<DeviceOptions>>().Value;
        Assert.Equal(["cuda:1"], devices.TrainingDevices);
        Assert.Equal(3, devices.TotalSlots);
        await host.StopAsync();
        using var plain = Host();
        Assert.Equal(["cpu"], plain.Services.GetRequiredService<IOptions<DeviceOptions>>().Value.TrainingDevices);
    }
}
