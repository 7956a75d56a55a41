using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;

namespace FailureSynth.TinyVlm.Torch;

/// <summary>libtorch could not be loaded; the message names the real cause (the dynamic loader's own words).</summary>
public sealed class TorchUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Loads libtorch once per process and picks devices. TorchSharp's own failure message blames a missing package reference even
/// when the package is there and the loader refused a library for another reason (on Debian 12: a libstdc++ symbol version);
/// so before TorchSharp touches it we load libLibTorchSharp.so ourselves, and on failure report what the loader and ldd say.
/// </summary>
public static class TorchRuntime
{
    /// <summary>File name of TorchSharp's native bridge.</summary>
    public const string BridgeLibrary = "libLibTorchSharp.so";

    private static readonly Lock Gate = new();
    private static bool loaded;

    /// <summary>Where the bridge library of this process's build is, or null when the build has none.</summary>
    public static string? BridgePath()
    {
        foreach (var candidate in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", BridgeLibrary),
                     Path.Combine(AppContext.BaseDirectory, BridgeLibrary),
                 })
        {
            if (File.Exists(candidate)) return candidate;
        }

        return null;
    }

    /// <summary>Loads libtorch and TorchSharp's bridge, or throws <see cref="TorchUnavailableException"/> naming why not.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (loaded) return;
            if (!OperatingSystem.IsLinux())
                throw new TorchUnavailableException("The TorchSharp engine is built for Linux x64 here (libtorch-cpu-linux-x64); use --engine managed on this system.");
            var bridge = BridgePath() ?? throw new TorchUnavailableException(
                $"{BridgeLibrary} is not in {AppContext.BaseDirectory} (nor in runtimes/linux-x64/native there): this program was built without TorchSharp's native package. Build it from the repository (dotnet build), which copies the natives; use --engine managed meanwhile.");
            var directory = Path.GetDirectoryName(bridge)!;
            try
            {
                // libtorch first, from the same folder, so the bridge's NEEDED entries resolve to these copies.
                foreach (var dependency in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
                {
                    var path = Path.Combine(directory, dependency);
                    if (File.Exists(path)) NativeLibrary.Load(path);
                }

                NativeLibrary.Load(bridge);
            }
            catch (DllNotFoundException e)
            {
                throw new TorchUnavailableException(Diagnose(bridge, e.Message), e);
            }

            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException)
            {
                throw new TorchUnavailableException($"TorchSharp could not start libtorch from {directory}: {e.Message}", e);
            }

            loaded = true;
        }
    }

    /// <summary>
    /// Why <paramref name="library"/> does not load: the loader's message, then what <c>ldd</c> reports missing (a symbol
    /// version, a library), and what to do about a missing GLIBCXX version.
    /// </summary>
    public static string Diagnose(string library, string? loaderMessage = null)
    {
        var missing = MissingDependencies(library);
        var text = $"libtorch could not be loaded: the dynamic loader refused {library}";
        if (!string.IsNullOrWhiteSpace(loaderMessage)) text += $" ({loaderMessage.Trim()})";
        text += ".";
        if (missing.Count > 0) text += " ldd reports: " + string.Join("; ", missing) + ".";
        if (missing.Any(m => m.Contains("GLIBCXX_", StringComparison.Ordinal)))
            text += " The system's libstdc++ is older than the one TorchSharp was built against. The build marks TorchSharp's one marker-only GLIBCXX_3.4.32 requirement weak "
                    + "(eng/torchsharp/TorchSharpNative.targets); this copy was not patched or needs another version: rebuild without -p:TorchSharpPatchNative=false, or install a newer libstdc++6.";
        return text;
    }

    /// <summary>The lines of <c>ldd <paramref name="library"/></c> that report something not found (empty when ldd is absent or finds everything).</summary>
    public static IReadOnlyList<string> MissingDependencies(string library)
    {
        try
        {
            var start = new ProcessStartInfo("ldd", [library]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(start);
            if (process is null) return [];
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(30_000))
            {
                process.Kill();
                return [];
            }

            // Libraries beside the file are found at load time through its RUNPATH ($ORIGIN) and preloading; ldd run on a copy
            // elsewhere would list them too, so only version problems and libraries absent from the folder count.
            var folder = Path.GetDirectoryName(Path.GetFullPath(library))!;
            return [.. (output.Result + "\n" + error.Result).Split('\n')
                .Select(l => l.Trim())
                .Where(l => l.Contains("not found", StringComparison.Ordinal) && !l.Contains("weak version", StringComparison.Ordinal))
                .Where(l => l.Contains("version", StringComparison.Ordinal) || !File.Exists(Path.Combine(folder, l.Split(' ')[0])))
                .Distinct()];
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return [];
        }
    }

    /// <summary>The device for <paramref name="device"/> (auto: CUDA when libtorch sees a GPU, else the CPU); errors name the cause.</summary>
    public static torch.Device Resolve(string device)
    {
        EnsureLoaded();
        return device switch
        {
            "cpu" => torch.CPU,
            "cuda" => torch.cuda.is_available()
                ? torch.CUDA
                : throw new TorchUnavailableException("--device cuda: libtorch sees no CUDA device. This build uses the CPU native package (libtorch-cpu-linux-x64); a GPU image builds with -p:TorchSharpNative=cuda (docs/engines.md) and needs an NVIDIA driver. Use --device cpu or auto."),
            "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
            _ => throw new ArgumentException($"Unknown device '{device}'; use auto, cpu or cuda."),
        };
    }
}
