using FailureSynth.Testing;

namespace FailureSynth.Cli.Tests;

/// <summary>Runs the real `failuresynth` program (the built assembly) as a separate process.</summary>
internal static class CliRunner
{
    public static (int ExitCode, string Output) Run(params string[] arguments)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "failuresynth.dll");
        Assert.True(File.Exists(dll), $"failuresynth.dll not found beside the tests at {dll}");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        return ExternalTools.Run(dotnet, ["exec", dll, .. arguments]);
    }
}
