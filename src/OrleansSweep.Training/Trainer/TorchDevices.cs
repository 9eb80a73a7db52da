using OrleansSweep.Core.Devices;
using TorchSharp;

namespace OrleansSweep.Training.Trainer;

/// <summary>Maps a configured device name to the device a trial actually trains on.</summary>
public static class TorchDevices
{
    /// <summary>
    /// "cpu" stays CPU; "cuda:N" (or "cuda") is used when CUDA is available and has device N, else falls back to
    /// CPU (the build may be the CPU backend); "auto" takes cuda:0 when available, else CPU.
    /// </summary>
    public static torch.Device Resolve(string? configured, out string? fallbackReason)
    {
        fallbackReason = null;
        var device = string.IsNullOrWhiteSpace(configured) ? new DeviceName(DeviceKind.Auto, 0) : DeviceName.Parse(configured);
        if (device.Kind == DeviceKind.Cpu) return torch.CPU;
        fallbackReason = Unavailability(device);
        if (device.Kind == DeviceKind.Auto)
        {
            fallbackReason = null; // auto means "whatever is there": CPU is not a fallback
            return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        }
        if (fallbackReason is null) return new torch.Device(DeviceType.CUDA, device.Index);
        fallbackReason += "; training on cpu.";
        return torch.CPU;
    }

    /// <summary>Why a CUDA device cannot be used on this machine and build, or null when it can (cpu and auto always can).</summary>
    public static string? Unavailability(DeviceName device)
    {
        if (!device.IsCuda) return null;
        if (!torch.cuda.is_available()) return $"device {device} requested but CUDA is not available (CPU build of TorchSharp, or no GPU or driver)";
        int count = torch.cuda.device_count();
        return device.Index < count ? null : $"device {device} does not exist (this machine has {count} CUDA device{(count == 1 ? "" : "s")})";
    }
}
