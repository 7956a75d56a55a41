using System.Diagnostics;
using FailureSynth.AppHost;

namespace FailureSynth.SystemTests;

/// <summary>Stopping the AppHost leaves no process behind: no dcp, beam.smp, epmd, redis-server or service process.</summary>
public sealed class StopTests
{
    [Fact]
    public async Task Stopping_the_AppHost_leaves_no_process_it_started()
    {
        string run = Path.Combine(Path.GetTempPath(), "fs-stop-" + Guid.NewGuid().ToString("N")[..8]);
        var app = await SystemFixture.StartAppHostAsync(run);
        var pids = new List<int>();
        foreach (string name in new[] { "messaging", "messaging-epmd", "cache", "student", "teacher", "imagesynth", "qualityfilter", "trainer" })
            pids.Add(await app.ProcessIdAsync(name, CancellationToken.None));
        Assert.All(pids, pid => Assert.True(Running(pid), $"pid {pid} is not running before the stop"));

        await app.StopAsync();
        await app.DisposeAsync();

        // DCP ends what it started; give its controllers a moment, then nothing that mentions the run folder may live.
        var deadline = Stopwatch.StartNew();
        while ((pids.Any(Running) || Mentioning(run).Count > 0) && deadline.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(250);
        Assert.DoesNotContain(pids, Running);
        Assert.Empty(Mentioning(run));
        try { Directory.Delete(run, recursive: true); } catch (IOException) { }
    }

    private static bool Running(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Processes whose command line or working folder mentions <paramref name="text"/> (the broker, Redis and epmd run there).</summary>
    private static List<string> Mentioning(string text)
    {
        var found = new List<string>();
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                string cwd = new DirectoryInfo(directory).EnumerateFileSystemInfos("cwd").FirstOrDefault()?.LinkTarget ?? "";
                if ((cmdline.Contains(text, StringComparison.Ordinal) || cwd.StartsWith(text, StringComparison.Ordinal)) && Running(pid)) found.Add($"{pid} {cmdline}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // exited while listing
            }
        }
        return found;
    }
}
