using System.Runtime.InteropServices;

namespace OrleansSweep.Training.Native;

/// <summary>What <see cref="NativeHeap.KeepTensorMemory"/> did to the process's C heap, and why.</summary>
public sealed record NativeHeapReport(bool Applied, string Message);

/// <summary>
/// Keeps libtorch's freed tensor memory in the process instead of handing it back to the kernel after every step.
/// </summary>
/// <remarks>
/// libtorch's CPU allocator is plain malloc/free. glibc serves every block above its mmap threshold (128 KiB, rising
/// dynamically to at most 32 MiB) with a fresh mmap and returns it with munmap on free, so each training step's
/// activations and each evaluation batch (1,000 images of ResNet-8: 50 MiB per layer) are page-faulted in and zeroed by
/// the kernel again, every time. Measured on 2 cores (benchmarks/README.md, "Native heap"): at m = 512 the kernel's share
/// of an epoch was 6x the arithmetic; at the quickstart's m = 16 a third of the epoch. Serving all blocks from the heap
/// (M_MMAP_MAX = 0) and trimming its top only past 1 GiB makes freed blocks reusable without a fault. Arithmetic is
/// untouched (results are bit-identical); the price is that a process keeps its high-water mark of native memory.
/// A user's own MALLOC_* settings, or ORLEANS_SWEEP_NATIVE_HEAP=default, leave glibc as it is; non-glibc systems too.
/// </remarks>
public static class NativeHeap
{
    public const string SettingVariable = "ORLEANS_SWEEP_NATIVE_HEAP";
    /// <summary>Free memory at the heap's top past which glibc gives it back: a working set's swing between steps stays.</summary>
    public const int TrimThresholdBytes = 1 << 30;

    private const int MTrimThreshold = -1; // glibc malloc.h
    private const int MMmapMax = -4;

    private static readonly Lock Gate = new();
    private static NativeHeapReport? _report;

    /// <summary>Once per process, before the first tensor: later calls return the first call's report.</summary>
    public static NativeHeapReport KeepTensorMemory()
    {
        lock (Gate) return _report ??= Configure();
    }

    private static NativeHeapReport Configure()
    {
        if (!OperatingSystem.IsLinux()) return new(false, "the native heap is left as is (not Linux).");
        if (string.Equals(Environment.GetEnvironmentVariable(SettingVariable), "default", StringComparison.OrdinalIgnoreCase))
            return new(false, $"the native heap is left as is ({SettingVariable}=default).");
        string? userSetting = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => name.StartsWith("MALLOC_", StringComparison.Ordinal)).Order(StringComparer.Ordinal).FirstOrDefault();
        if (userSetting is not null) return new(false, $"the native heap is left as the environment sets it ({userSetting}).");
        try
        {
            // mallopt returns 1 on success; musl's stub returns 0 and changes nothing.
            if (Libc.mallopt(MMmapMax, 0) != 1 || Libc.mallopt(MTrimThreshold, TrimThresholdBytes) != 1)
                return new(false, "the native heap is left as is (this C library's mallopt does not take glibc's settings).");
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return new(false, "the native heap is left as is (no glibc mallopt).");
        }
        return new(true, $"native tensor memory is kept for reuse (glibc: no mmap'd blocks, heap trimmed past {TrimThresholdBytes >> 20} MiB).");
    }

    /// <summary>glibc's own count of the bytes it currently holds in mmap'd blocks (mallinfo2's hblkhd).</summary>
    public static long MappedBlockBytes() => (long)Libc.mallinfo2().hblkhd;

    private static class Libc
    {
        private const string Library = "libc.so.6";
        [DllImport(Library)] public static extern int mallopt(int parameter, int value);
        [DllImport(Library)] public static extern MallInfo2 mallinfo2();
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }
}
