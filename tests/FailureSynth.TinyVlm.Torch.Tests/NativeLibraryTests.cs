using System.Diagnostics;
using System.Runtime.InteropServices;
using FailureSynth.Build;
using FailureSynth.TinyVlm.Tests;

namespace FailureSynth.TinyVlm.Torch.Tests;

/// <summary>
/// The build step that makes TorchSharp load on Debian 12 (eng/torchsharp), tested on the real libLibTorchSharp.so from the
/// NuGet cache: before it the loader refuses the library for GLIBCXX_3.4.32, after it the library loads (in a separate
/// python3 process, so this test process's own libtorch is not involved); and the error for an unpatched copy names the cause.
/// </summary>
public class NativeLibraryTests
{
    private const string Version = "GLIBCXX_3.4.32";
    private const string Marker = "_ZSt21ios_base_library_initv";
    private static readonly string[] Allowed = [Marker];

    /// <summary>The unpatched library as NuGet restored it.</summary>
    private static string Original()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", TorchRuntime.BridgeLibrary);
        Assert.True(File.Exists(path), $"{path} is missing; restore the solution (dotnet restore) first.");
        return path;
    }

    /// <summary>A folder with a copy of the unpatched bridge and links to libtorch's libraries (found through its $ORIGIN runpath).</summary>
    private static string CopyWithLibtorch(string directory)
    {
        var bridge = Path.Combine(directory, TorchRuntime.BridgeLibrary);
        File.Copy(Original(), bridge);
        var libtorch = Path.GetDirectoryName(TorchRuntime.BridgePath() ?? throw new InvalidOperationException("the test build has no TorchSharp natives"))!;
        foreach (var library in Directory.GetFiles(libtorch, "*.so*"))
        {
            var name = Path.GetFileName(library);
            if (name != TorchRuntime.BridgeLibrary) File.CreateSymbolicLink(Path.Combine(directory, name), library);
        }

        return bridge;
    }

    private static bool SystemHasVersion() =>
        File.ReadAllText("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", System.Text.Encoding.Latin1).Contains(Version + "\0", StringComparison.Ordinal);

    /// <summary>Loads <paramref name="library"/> with dlopen in a python3 process; returns its exit code and what it printed.</summary>
    private static (int Code, string Output) LoadInChild(string library)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", ["-c", "import ctypes, sys\ntry:\n    ctypes.CDLL(sys.argv[1])\n    print('loaded')\nexcept OSError as e:\n    print(e); sys.exit(3)", library])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    [Fact]
    public void Marking_the_marker_version_weak_makes_the_real_library_load()
    {
        var directory = StudentFixtures.TempDirectory();
        try
        {
            var bridge = CopyWithLibtorch(directory);
            var before = ElfVersionNeeds.Read(File.ReadAllBytes(bridge), bridge).Single(r => r.Version == Version);
            Assert.Equal("libstdc++.so.6", before.Library);
            Assert.False(before.IsWeak);
            Assert.Equal(Allowed, ElfVersionNeeds.SymbolsOfVersion(File.ReadAllBytes(bridge), before.Index, bridge));
            if (!SystemHasVersion())
            {
                // Debian 12: the loader refuses the unpatched library, and ldd names the version.
                var (code, output) = LoadInChild(bridge);
                Assert.True(code == 3, $"the unpatched library loaded: {output}");
                Assert.Contains(Version, output, StringComparison.Ordinal);
                Assert.Contains(TorchRuntime.MissingDependencies(bridge), line => line.Contains(Version, StringComparison.Ordinal));
            }

            Assert.Equal(WeakVersionOutcome.Marked, ElfVersionNeeds.MarkWeak(bridge, "libstdc++.so.6", Version, Allowed));

            var after = ElfVersionNeeds.Read(File.ReadAllBytes(bridge), bridge);
            Assert.True(after.Single(r => r.Version == Version).IsWeak);
            // Every other requirement is untouched.
            Assert.Equal(
                ElfVersionNeeds.Read(File.ReadAllBytes(Original()), "original").Where(r => r.Version != Version).Select(r => (r.Library, r.Version, r.Flags)),
                after.Where(r => r.Version != Version).Select(r => (r.Library, r.Version, r.Flags)));
            Assert.Empty(TorchRuntime.MissingDependencies(bridge));
            var loaded = LoadInChild(bridge);
            Assert.True(loaded.Code == 0, $"the patched library did not load: {loaded.Output}");
            Assert.Equal(WeakVersionOutcome.AlreadyWeak, ElfVersionNeeds.MarkWeak(bridge, "libstdc++.so.6", Version, Allowed));
            // The NuGet cache's copy was not edited.
            Assert.False(ElfVersionNeeds.Read(File.ReadAllBytes(Original()), "original").Single(r => r.Version == Version).IsWeak);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_build_output_carries_the_patched_library()
    {
        var bridge = TorchRuntime.BridgePath() ?? throw new InvalidOperationException("the test build has no TorchSharp natives");
        Assert.True(ElfVersionNeeds.Read(File.ReadAllBytes(bridge), bridge).Single(r => r.Version == Version).IsWeak);
        TorchRuntime.EnsureLoaded();
    }

    [Fact]
    public void A_version_that_real_symbols_need_is_never_marked_weak()
    {
        var directory = StudentFixtures.TempDirectory();
        try
        {
            var bridge = Path.Combine(directory, TorchRuntime.BridgeLibrary);
            File.Copy(Original(), bridge);
            var bytes = File.ReadAllBytes(bridge);
            var needed = ElfVersionNeeds.Read(bytes, bridge).First(r => r.Library == "libstdc++.so.6" && r.Version != Version && ElfVersionNeeds.SymbolsOfVersion(bytes, r.Index, bridge).Count > 0);
            var error = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(bridge, "libstdc++.so.6", needed.Version, Allowed));
            Assert.Contains("refusing", error.Message, StringComparison.Ordinal);
            Assert.Equal(bytes, File.ReadAllBytes(bridge));
            Assert.Equal(WeakVersionOutcome.NotRequired, ElfVersionNeeds.MarkWeak(bridge, "libstdc++.so.6", "GLIBCXX_9.9.9", Allowed));
            var text = Path.Combine(directory, "not-elf.so");
            File.WriteAllText(text, "not a library");
            Assert.Contains("not an ELF file", Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(File.ReadAllBytes(text), text)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_load_error_names_the_missing_symbol_version_not_the_package()
    {
        var directory = StudentFixtures.TempDirectory();
        try
        {
            var bridge = CopyWithLibtorch(directory);
            if (SystemHasVersion())
            {
                // A newer libstdc++ loads the unpatched library: there is no error to word, and nothing is reported missing.
                Assert.Equal(0, LoadInChild(bridge).Code);
                Assert.Empty(TorchRuntime.MissingDependencies(bridge));
                return;
            }

            var loader = Assert.Throws<DllNotFoundException>(() => NativeLibrary.Load(bridge));
            var message = TorchRuntime.Diagnose(bridge, loader.Message);
            Assert.Contains($"version `{Version}' not found", message, StringComparison.Ordinal);
            Assert.Contains("eng/torchsharp/TorchSharpNative.targets", message, StringComparison.Ordinal);
            Assert.DoesNotContain("reference to", message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
