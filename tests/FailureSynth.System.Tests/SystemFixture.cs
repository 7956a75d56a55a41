using System.Diagnostics;
using System.Runtime.InteropServices;
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
    public string RetrievalCampaignFile => Path.Combine(Root, "small-retrieve.yaml");
    public string RetrievalYaml => Yaml.Replace("name: small", "name: small-retrieve") + "\nprescription: retrieve\npool: { profile: balanced, count: 4000, seed: 303 }\n";
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
        await File.WriteAllTextAsync(RetrievalCampaignFile, RetrievalYaml);
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
    public Task<AppHostRun> RunAppHostAsync(string name, params string[] extra) => RunAsync(name, null, extra);

    /// <summary>Runs the AppHost and sends it SIGINT (Ctrl+C) when a line containing <paramref name="interruptAfter"/> appears.</summary>
    public Task<AppHostRun> RunAppHostInterruptedAsync(string name, string interruptAfter) => RunAsync(name, interruptAfter, []);

    private async Task<AppHostRun> RunAsync(string name, string? interruptAfter, string[] extra)
    {
        string campaign = CampaignFile;
        if (extra is ["--campaign", var other, ..]) (campaign, extra) = (other, extra[2..]);
        string output = Path.Combine(Root, name);
        string appHost = Path.Combine(RepoRoot(), "FailureSynth.AppHost", "bin", Configuration, "net10.0", "FailureSynth.AppHost.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
        foreach (string a in new[] { appHost, "run", campaign, "--out", output, "--no-build", "-c", Configuration }.Concat(extra)) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var lines = new List<string>();
        var gate = new Lock();
        var sawTrigger = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Collect(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (gate) lines.Add(e.Data);
            if (interruptAfter is not null && e.Data.Contains(interruptAfter, StringComparison.Ordinal)) sawTrigger.TrySetResult();
        }
        void Note(string line) { lock (gate) lines.Add("[test] " + line); }
        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        try
        {
            if (interruptAfter is not null)
            {
                await Task.WhenAny(sawTrigger.Task, process.WaitForExitAsync(timeout.Token));
                // A terminal's Ctrl+C is SIGINT to the process. Once seen as lost in a full-suite run (the
                // campaign ran to the end): the signal is now sent with kill(2) and its result is in the output; a
                // second one follows, noted, if the AppHost has not said it is stopping 20 s later.
                for (int attempt = 1; attempt <= 2 && sawTrigger.Task.IsCompleted && !process.HasExited; attempt++)
                {
                    int rc = SendSignal(process.Id, SigInt);
                    Note($"SIGINT {attempt} sent to pid {process.Id}: kill returned {rc}" + (rc != 0 ? $" (errno {Marshal.GetLastPInvokeError()})" : ""));
                    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
                    while (!process.HasExited && DateTime.UtcNow < deadline && !Seen("interrupted; stopping everything")) await Task.Delay(100, timeout.Token);
                    if (process.HasExited || Seen("interrupted; stopping everything")) break;
                    Note("no reaction within 20 s");
                }
            }
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The AppHost run took more than 6 minutes:\n" + string.Join("\n", lines.TakeLast(60)));
        }
        bool Seen(string text) { lock (gate) return lines.Any(l => l.Contains(text, StringComparison.Ordinal)); }
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

    private const int SigInt = 2;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

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
