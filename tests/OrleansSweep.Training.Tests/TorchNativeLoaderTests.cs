using OrleansSweep.Training.Native;
using TorchSharp;

namespace OrleansSweep.Training.Tests;

public class TorchNativeLoaderTests
{
    [Fact]
    public void Loads_torch_patching_only_when_the_system_libstdcxx_lacks_the_version()
    {
        var report = TorchNativeLoader.EnsureLoaded();
        bool systemHasIt = TorchNativeLoader.LibStdCxxProvides(TorchNativeLoader.RequiredLibStdCxxVersion);
        Assert.Equal(!systemHasIt, report.Patched);
        if (report.Patched)
        {
            Assert.True(File.Exists(report.PatchedLibraryPath));
            Assert.DoesNotContain(".nuget", report.PatchedLibraryPath!); // the NuGet cache is never touched
            Assert.Contains("marked weak", report.Message);
        }

        using var x = torch.ones(2, 3);
        Assert.Equal(6f, x.sum().item<float>());
        Assert.Same(report, TorchNativeLoader.EnsureLoaded()); // idempotent: once per process
    }

    [Fact]
    public void The_system_probe_answers_for_versions_that_exist_and_do_not()
    {
        Assert.False(TorchNativeLoader.LibStdCxxProvides("GLIBCXX_99.0.0"));
    }
}
