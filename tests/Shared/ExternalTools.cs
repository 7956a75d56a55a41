using System.Diagnostics;

namespace FailureSynth.Testing;

/// <summary>
/// Runs the OS tools the tests check our output with (installed by eng/install-prereqs.sh).
/// Linked as source into the test projects that need it; a missing tool fails the test.
/// </summary>
internal static class ExternalTools
{
    /// <summary>Runs pngcheck on the files (verbose when asked); returns its exit code and output.</summary>
    public static (int ExitCode, string Output) PngCheck(IEnumerable<string> paths, bool verbose = false)
    {
        const string PngCheckPath = "/usr/bin/pngcheck";
        if (!File.Exists(PngCheckPath))
            Assert.Fail($"{PngCheckPath} is missing; install the OS prerequisites with eng/install-prereqs.sh (as root) and run the tests again.");
        var arguments = new List<string>();
        if (verbose) arguments.Add("-v");
        arguments.AddRange(paths);
        return Run(PngCheckPath, arguments);
    }

    /// <summary>Runs a program to completion, capturing stdout and stderr together.</summary>
    public static (int ExitCode, string Output) Run(string program, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + stderr.Result);
    }
}
