using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace OrleansSweep.Training.Native;

/// <summary>How the TorchSharp native backend was made loadable on this machine.</summary>
public sealed record NativeLoadReport(bool Patched, string Message, string? PatchedLibraryPath);

/// <summary>
/// Makes TorchSharp's native backend loadable on systems whose libstdc++ is older than the one it was built against
/// (Debian 12, Ubuntu 22.04), and keeps libtorch's own log noise out of user output. Call before the first torch call.
/// </summary>
/// <remarks>
/// When the system libstdc++ lacks GLIBCXX_3.4.32, a copy of libLibTorchSharp.so with that single requirement marked
/// weak is written to a cache directory (never the NuGet cache), libtorch is preloaded from its own directory so the
/// copy's dependencies resolve by soname, and a DllImport resolver hands TorchSharp the copy. Idempotent: the cached
/// copy is reused while it still matches the patched original, and everything happens once per process.
/// </remarks>
public static class TorchNativeLoader
{
    public const string RequiredLibStdCxxVersion = "GLIBCXX_3.4.32";
    private const string LibStdCxx = "libstdc++.so.6";
    // A symbol that libstdc++ defines at GLIBCXX_3.4.32 and the only one libLibTorchSharp.so binds to that version.
    private const string ProbeSymbol = "_ZSt21ios_base_library_initv";
    private const string TorchSharpLibraryName = "LibTorchSharp";
    private const string TorchSharpFileName = "libLibTorchSharp.so";
    private const string CacheDirectoryVariable = "ORLEANS_SWEEP_NATIVE_CACHE";

    private static readonly Lock Gate = new();
    private static NativeLoadReport? _report;

    public static NativeLoadReport EnsureLoaded(ILogger? logger = null)
    {
        lock (Gate)
        {
            if (_report is not null) return _report;
            QuietNativeLogging();
            var heap = NativeHeap.KeepTensorMemory();
            logger?.LogDebug("{Message}", heap.Message);
            _report = OperatingSystem.IsLinux() && !LibStdCxxProvides(RequiredLibStdCxxVersion)
                ? LoadPatchedCopy()
                : new NativeLoadReport(false, "TorchSharp native libraries load as shipped.", null);
            if (_report.Patched) logger?.LogInformation("{Message}", _report.Message);
            else logger?.LogDebug("{Message}", _report.Message);
            return _report;
        }
    }

    /// <summary>libtorch reads TORCH_CPP_LOG_LEVEL once, from the native environment, when it loads.</summary>
    private static void QuietNativeLogging()
    {
        const string name = "TORCH_CPP_LOG_LEVEL";
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) return;
        Environment.SetEnvironmentVariable(name, "ERROR");
        // .NET keeps its own copy of the environment on Unix; native getenv only sees setenv.
        if (!OperatingSystem.IsWindows()) _ = Libc.setenv(name, "ERROR", 0);
    }

    public static bool LibStdCxxProvides(string version)
    {
        IntPtr handle = Libc.dlopen(LibStdCxx, Libc.RtldNow);
        if (handle == IntPtr.Zero) return false;
        try { return Libc.dlvsym(handle, ProbeSymbol, version) != IntPtr.Zero; }
        finally { _ = Libc.dlclose(handle); }
    }

    private static NativeLoadReport LoadPatchedCopy()
    {
        string original = FindNativeFile(TorchSharpFileName)
            ?? throw new DllNotFoundException(
                $"{TorchSharpFileName} was not found next to the application or in its native search directories; " +
                "is the TorchSharp-cpu package referenced?");
        string libtorch = FindNativeFile("libtorch.so")
            ?? throw new DllNotFoundException("libtorch.so (package libtorch-cpu-linux-x64) was not found next to the application.");

        byte[] patched = File.ReadAllBytes(original);
        var outcome = ElfVersionPatcher.MarkVersionWeak(patched, LibStdCxx, RequiredLibStdCxxVersion, original);
        if (outcome == ElfPatchOutcome.NotRequired)
            return new NativeLoadReport(false, $"{original} does not require {RequiredLibStdCxxVersion}; loaded as shipped.", null);

        string copy = WriteCachedCopy(original, patched);
        // The copy's RUNPATH is $ORIGIN, i.e. the cache directory: preload libtorch (and through it libc10 and
        // libtorch_cpu) from its own directory so the copy's DT_NEEDED entries resolve by soname.
        NativeLibrary.Load(libtorch);
        IntPtr handle = NativeLibrary.Load(copy);
        NativeLibrary.SetDllImportResolver(typeof(TorchSharp.torch).Assembly, (name, _, _) =>
            name == TorchSharpLibraryName ? handle : IntPtr.Zero);
        return new NativeLoadReport(true,
            $"System libstdc++ lacks {RequiredLibStdCxxVersion}: loaded TorchSharp from {copy}, a copy of {original} " +
            $"whose {RequiredLibStdCxxVersion} requirement is marked weak (its only symbol, {ProbeSymbol}, is never called).",
            copy);
    }

    private static string WriteCachedCopy(string original, byte[] patched)
    {
        string key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(patched))[..16];
        string directory = Path.Combine(CacheRoot(), key);
        string path = Path.Combine(directory, TorchSharpFileName);
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(patched)) return path;

        Directory.CreateDirectory(directory);
        // Write-then-rename: concurrent processes never see a half-written library.
        string temporary = Path.Combine(directory, $".{TorchSharpFileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(temporary, patched);
        File.Move(temporary, path, overwrite: true);
        File.WriteAllText(Path.Combine(directory, "SOURCE.txt"),
            $"Patched copy of {original}: VER_FLG_WEAK set on its {RequiredLibStdCxxVersion} requirement.\n");
        return path;
    }

    private static string CacheRoot()
    {
        string? configured = Environment.GetEnvironmentVariable(CacheDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(configured)) return configured;
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string baseDirectory = !string.IsNullOrWhiteSpace(xdg) ? xdg
            : !string.IsNullOrWhiteSpace(home) ? Path.Combine(home, ".cache")
            : Path.GetTempPath();
        return Path.Combine(baseDirectory, "orleans-sweep", "native");
    }

    private static string? FindNativeFile(string fileName)
    {
        var directories = new List<string> { AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native") };
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchPath)
            directories.AddRange(searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        string? torchSharpDirectory = Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location);
        if (torchSharpDirectory is not null)
            directories.Add(Path.Combine(torchSharpDirectory, "runtimes", "linux-x64", "native"));
        return directories.Select(d => Path.Combine(d, fileName)).FirstOrDefault(File.Exists);
    }

    private static class Libc
    {
        public const int RtldNow = 2;
        private const string Library = "libc.so.6";
        [DllImport(Library)] public static extern IntPtr dlopen(string fileName, int flags);
        [DllImport(Library)] public static extern IntPtr dlvsym(IntPtr handle, string symbol, string version);
        [DllImport(Library)] public static extern int dlclose(IntPtr handle);
        [DllImport(Library)] public static extern int setenv(string name, string value, int overwrite);
    }
}
