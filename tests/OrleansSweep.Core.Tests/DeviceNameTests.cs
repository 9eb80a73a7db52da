using OrleansSweep.Core.Devices;

namespace OrleansSweep.Core.Tests;

public class DeviceNameTests
{
    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData(" CPU ", "cpu")]
    [InlineData("auto", "auto")]
    [InlineData("cuda", "cuda:0")]
    [InlineData("cuda:0", "cuda:0")]
    [InlineData("cuda:12", "cuda:12")]
    public void Device_names_parse(string text, string expected) => Assert.Equal(expected, DeviceName.Parse(text).ToString());

    [Theory]
    [InlineData("tpu")]
    [InlineData("")]
    [InlineData("cuda:")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:+1")]
    [InlineData("cuda:1.0")]
    [InlineData("cuda:1024")]
    [InlineData("cuda:99999999999")]
    public void Anything_else_is_not_a_device(string text)
    {
        Assert.False(DeviceName.TryParse(text, out _));
        var error = Assert.Throws<ArgumentException>(() => DeviceName.Parse(text));
        Assert.Equal($"'{text}' is not a device (expected cpu, cuda, cuda:N or auto).", error.Message);
    }
}
