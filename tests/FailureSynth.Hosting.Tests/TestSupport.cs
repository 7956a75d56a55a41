using System.Globalization;
using System.Reflection;
using FailureSynth.Hosting;

// The orchestrator tests start real processes on a 2-core machine: one at a time keeps their timing honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace FailureSynth.Hosting.Tests;

/// <summary>Paths, options and OS look-ups the orchestrator tests share.</summary>
internal static class TestSupport
{
    /// <summary>The configuration these tests (and so the test service, built with them) were built in.</summary>
    public static string Configuration { get; } =
        typeof(TestSupport).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string TestServiceProject { get; } =
        Path.Combine(RepositoryRoot, "tests", "FailureSynth.Hosting.TestService", "FailureSynth.Hosting.TestService.csproj");

    /// <summary>Options for a test run: the test service is already built, nothing is echoed, timeouts are short.</summary>
    public static DistributedApplicationOptions Options(string runDirectory) => new()
    {
        ProjectDirectory = RepositoryRoot,
        RunDirectory = runDirectory,
        Configuration = Configuration,
        SkipBuild = true,
        Echo = null,
        StartTimeout = TimeSpan.FromSeconds(30),
        StopTimeout = TimeSpan.FromSeconds(5),
        HealthProbeInterval = TimeSpan.FromMilliseconds(100),
        HealthCheckInterval = TimeSpan.FromMilliseconds(500),
    };

    public static string NewRunDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "failuresynth-hosting-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Removes a test's run folder (logs, server data); a leftover is not worth failing the test for.</summary>
    public static void DeleteRunDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public static async Task<string> GetStringAsync(Uri endpoint, string path)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await client.GetStringAsync(new Uri(endpoint, path));
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "FailureSynth.sln"))) return folder.FullName;
        throw new InvalidOperationException($"FailureSynth.sln was not found above {AppContext.BaseDirectory}.");
    }
}

/// <summary>Reads the Linux process table, to check that no process the orchestrator started survives it.</summary>
internal static class ProcessTable
{
    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => Stat(pid) is { } stat && stat.State != 'Z';

    /// <summary>Live processes whose process group is <paramref name="groupId"/>.</summary>
    public static IReadOnlyList<int> Group(int groupId)
    {
        var members = new List<int>();
        foreach (string folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            if (Stat(pid) is { } stat && stat.State != 'Z' && stat.ProcessGroup == groupId) members.Add(pid);
        }
        return members;
    }

    /// <summary>Waits up to a few seconds for the process to be gone (the kernel reaps asynchronously).</summary>
    public static async Task<bool> GoneAsync(int pid)
    {
        for (int i = 0; i < 50 && IsAlive(pid); i++) await Task.Delay(100);
        return !IsAlive(pid);
    }

    private static (char State, int ProcessGroup)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so read after the last ')'.
        string[] fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (fields[0][0], int.Parse(fields[2], CultureInfo.InvariantCulture));
    }
}
