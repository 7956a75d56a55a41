using System.Diagnostics;
using System.Text.RegularExpressions;
using FailureSynth.Loop.Campaigns;

namespace FailureSynth.SystemTests;

/// <summary>
/// A small campaign, run once in-process (the reference every distributed run must match), and a way to run it
/// through the AppHost as a real process, with the services it starts.
/// </summary>
public sealed partial class SystemFixture : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "fs-system-tests-" + Guid.NewGuid().ToString("N")[..8]);
    public string CampaignFile => Path.Combine(Root, "small.yaml");
    public string Configuration { get; } = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Configuration>/net10.0
    public CampaignReport Reference { get; private set; } = null!;
    public string ReferenceManifest { get; private set; } = null!;

    // Big enough that each stage lasts long enough for a fault to land inside it; small enough for seconds.
    public string Yaml => $$"""
        name: small
        seed: 5
        threads: 2
        iterations: 2
        student:
          base: { profile: base-skewed, count: 800, seed: 1 }
          base_steps: 40
          base_seed: 1
          cache: {{Path.Combine(Root, "cache")}}
        validation: { profile: balanced, count: 600, seed: 101 }
        test: { profile: balanced, count: 200, seed: 2 }
        budget: { failures: 120, samples: 300, train_steps: 8 }
        teacher: { prior_samples: 3000 }
        """;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        await File.WriteAllTextAsync(CampaignFile, Yaml);
        var runner = new CampaignRunner(CampaignConfig.Parse(Yaml, CampaignFile), Path.Combine(Root, "in-process"), Root);
        var result = await runner.RunAsync(null, CancellationToken.None);
        Reference = result.Report;
        ReferenceManifest = await File.ReadAllTextAsync(Path.Combine(result.DatasetDirectory, "manifest.json"));
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return Task.CompletedTask;
    }

    /// <summary>Runs <c>FailureSynth.AppHost run</c> with the extra arguments; returns its exit code, output and the pids it started.</summary>
    public async Task<AppHostRun> RunAppHostAsync(string name, params string[] extra)
    {
        string output = Path.Combine(Root, name);
        string appHost = Path.Combine(RepoRoot(), "FailureSynth.AppHost", "bin", Configuration, "net10.0", "FailureSynth.AppHost.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
        foreach (string a in new[] { appHost, "run", CampaignFile, "--out", output, "--no-build", "-c", Configuration }.Concat(extra)) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var lines = new List<string>();
        var gate = new Lock();
        void Collect(object _, DataReceivedEventArgs e) { if (e.Data is not null) lock (gate) lines.Add(e.Data); }
        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The AppHost run took more than 6 minutes:\n" + string.Join("\n", lines.TakeLast(60)));
        }
        process.WaitForExit();
        string text;
        lock (gate) text = string.Join("\n", lines);
        var pids = PidText().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct().ToList();
        return new AppHostRun(process.ExitCode, text, output, pids);
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FailureSynth.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"\(pid (\d+)\)")]
    private static partial Regex PidText();
}

public sealed record AppHostRun(int ExitCode, string Output, string OutputDirectory, IReadOnlyList<int> ProcessIds)
{
    public string Manifest => File.ReadAllText(Path.Combine(OutputDirectory, "dataset", "manifest.json"));

    public CampaignReport Report => CampaignJson.Read<CampaignReport>(Path.Combine(OutputDirectory, "report.json"));

    /// <summary>Processes the run started that are still alive (none should be, once the AppHost exited).</summary>
    public IReadOnlyList<int> Survivors => [.. ProcessIds.Where(pid => Directory.Exists($"/proc/{pid}") && !IsZombie(pid))];

    private static bool IsZombie(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ")[^1].StartsWith('Z'); }
        catch (IOException) { return true; }
    }
}
