using System.Globalization;
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
        string name = string.IsNullOrWhiteSpace(configured) ? "auto" : configured.Trim().ToLowerInvariant();
        if (name == "cpu") return torch.CPU;
        bool available = torch.cuda.is_available();
        if (name == "auto") return available ? torch.CUDA : torch.CPU;
        if (name == "cuda" || name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = name == "cuda" ? 0 : int.Parse(name["cuda:".Length..], NumberStyles.None, CultureInfo.InvariantCulture);
            if (available && index < torch.cuda.device_count()) return new torch.Device(DeviceType.CUDA, index);
            fallbackReason = available
                ? $"device {name} does not exist (this machine has {torch.cuda.device_count()} CUDA devices); training on cpu."
                : $"device {name} requested but CUDA is not available (CPU build or no GPU); training on cpu.";
            return torch.CPU;
        }
        throw new ArgumentException($"device '{configured}' is not a device name (expected cpu, cuda, cuda:N or auto).");
    }
}
