using System.Runtime.InteropServices;
using OrleansSweep.Core.Devices;

namespace OrleansSweep.Grains.Devices;

/// <summary>Asks a device's driver for its memory; null when it cannot be asked (a CPU, no CUDA runtime).</summary>
public interface IDeviceMemoryProbe
{
    DeviceMemory? Query(string device);
}

/// <summary>
/// CUDA's cudaMemGetInfo, through the CUDA runtime libtorch's CUDA build ships (libcudart.so.12, or .11). On a machine
/// without it every query is null, and an automatic GPU keeps one trial at a time (<see cref="GpuPacking"/>).
/// </summary>
public sealed class CudaMemoryProbe : IDeviceMemoryProbe
{
    private static readonly string[] RuntimeNames = ["libcudart.so.12", "libcudart.so.11.0", "libcudart.so", "cudart64_12.dll"];
    private readonly Lazy<Runtime?> _runtime = new(Load);

    private sealed record Runtime(SetDevice SetDevice, MemGetInfo MemGetInfo);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int SetDevice(int device);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int MemGetInfo(out nuint free, out nuint total);

    public DeviceMemory? Query(string device)
    {
        if (!DeviceName.TryParse(device, out var name) || !name.IsCuda || _runtime.Value is not { } runtime) return null;
        // The current device is per thread: set it on this thread, then ask (0 is cudaSuccess).
        if (runtime.SetDevice(name.Index) != 0 || runtime.MemGetInfo(out nuint free, out nuint total) != 0) return null;
        return new DeviceMemory((long)total, (long)free);
    }

    private static Runtime? Load()
    {
        foreach (string library in RuntimeNames)
        {
            if (!NativeLibrary.TryLoad(library, typeof(CudaMemoryProbe).Assembly, null, out IntPtr handle)) continue;
            if (NativeLibrary.TryGetExport(handle, "cudaSetDevice", out IntPtr setDevice)
                && NativeLibrary.TryGetExport(handle, "cudaMemGetInfo", out IntPtr memGetInfo))
                return new Runtime(Marshal.GetDelegateForFunctionPointer<SetDevice>(setDevice), Marshal.GetDelegateForFunctionPointer<MemGetInfo>(memGetInfo));
        }
        return null;
    }
}
