using System.Diagnostics;

namespace FailureSynth.Deploy.Tests;

/// <summary>Where the deployment files are, and the OS tools that check them (eng/install-prereqs.sh --with-deploy).</summary>
internal static class DeployFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>The five deployable services: the AppHost's resource name and the project folder under services/.</summary>
    public static IReadOnlyDictionary<string, string> Services { get; } = new Dictionary<string, string>
    {
        ["student"] = "FailureSynth.Student",
        ["teacher"] = "FailureSynth.Teacher",
        ["imagesynth"] = "FailureSynth.ImageSynth",
        ["qualityfilter"] = "FailureSynth.QualityFilter",
        ["trainer"] = "FailureSynth.Trainer",
    };

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>The one Containerfile every service image is built from (<c>--build-arg SERVICE=...</c>).</summary>
    public static string Containerfile { get; } = Path("deploy", "Containerfile");

    /// <summary>
    /// Runs a tool with exactly the environment given on top of PATH and HOME, so that nothing set where the tests
    /// run leaks into what the tool sees; a missing tool fails the test with what to install.
    /// </summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string program, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        string? resolved = Resolve(program);
        if (resolved is null)
            Assert.Fail(program == "kubectl"
                ? "'kubectl' is not on PATH; the tests render the overlays with `kubectl kustomize` (kubectl 1.27 or newer, kustomize 5): install kubectl from https://kubernetes.io/docs/tasks/tools/ (not Debian's kubernetes-client 1.20, whose kustomize is too old) and run the tests again."
                : $"'{program}' is not on PATH; install it with eng/install-prereqs.sh --with-deploy (as root) and run the tests again.");
        var start = new ProcessStartInfo(resolved) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        start.Environment.Clear();
        start.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        start.Environment["HOME"] = System.IO.Path.GetTempPath();
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish in time.");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string? Resolve(string program) =>
        program.Contains('/') ? (File.Exists(program) ? program : null)
        : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => System.IO.Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "FailureSynth.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No FailureSynth.sln above {AppContext.BaseDirectory}.");
    }
}
