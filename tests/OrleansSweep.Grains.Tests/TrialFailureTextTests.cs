using OrleansSweep.Grains.Trials;

namespace OrleansSweep.Grains.Tests;

public sealed class TrialFailureTextTests
{
    [Fact]
    public void A_libtorch_error_is_reported_without_its_cpp_stack()
    {
        // As keskar-f1-invariant's one transient failure read (its stack ran to 4 KB on one log line).
        const string native = "Unknown scalar type. Exception raised from type at /pytorch/c10/core/Scalar.h:339 (most recent call first): " +
                              "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0xb0 (0x7f57d02ac1a0 in libc10.so) frame #1: ...";
        Assert.Equal("Unknown scalar type (libtorch; its C++ stack is in the debug log)", TrialRunner.WithoutNativeStack(native));
        Assert.Equal("disk full", TrialRunner.WithoutNativeStack("disk full"));
    }
}
