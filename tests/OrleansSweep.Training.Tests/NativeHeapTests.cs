using OrleansSweep.Training.Native;
using TorchSharp;

namespace OrleansSweep.Training.Tests;

public class NativeHeapTests
{
    /// <summary>
    /// The claim behind the speed-up: once the trainer's native setup ran, a tensor far above glibc's mmap threshold
    /// comes from the heap, not from a fresh mapping the kernel must fault in and zero on every step.
    /// </summary>
    [Fact]
    public void After_setup_large_tensors_are_not_mapped_afresh()
    {
        TorchNativeLoader.EnsureLoaded();
        var report = NativeHeap.KeepTensorMemory();
        if (!OperatingSystem.IsLinux()) { Assert.False(report.Applied); return; }
        bool userSetsMalloc = Environment.GetEnvironmentVariables().Keys.Cast<string>().Any(k => k.StartsWith("MALLOC_", StringComparison.Ordinal))
                              || Environment.GetEnvironmentVariable(NativeHeap.SettingVariable) == "default";
        Assert.Equal(!userSetsMalloc, report.Applied);
        if (!report.Applied) return;

        long mappedBefore = NativeHeap.MappedBlockBytes();
        // 40 MiB: above glibc's largest dynamic mmap threshold (32 MiB), below the 64 MiB a thread's own arena can hold (glibc
        // maps larger blocks of a thread's arena whatever the setting; the trainer's largest are ResNet-8's 50 MiB).
        using (var activations = torch.ones(40, 16, 128, 128))
        {
            Assert.Equal(16.0 * 128 * 128 * 40, activations.sum().item<float>());
            Assert.True(NativeHeap.MappedBlockBytes() - mappedBefore < 1 << 20,
                $"a 40 MiB tensor was mapped afresh ({NativeHeap.MappedBlockBytes() - mappedBefore} bytes in mmap'd blocks)");
        }
        Assert.Same(report, NativeHeap.KeepTensorMemory()); // once per process
    }
}
