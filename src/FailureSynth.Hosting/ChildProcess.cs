using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FailureSynth.Hosting;

/// <summary>What to launch: program, arguments, folder and the complete environment.</summary>
internal sealed record ProcessLaunch(string Command, IReadOnlyList<string> Args, string WorkingDirectory, IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// One OS process started in a process group of its own (through <c>setsid</c>), so that stopping
/// it reaches everything it started too: SIGTERM to the group, a grace period, then SIGKILL to the
/// group. Ctrl+C in the AppHost's terminal therefore does not hit the children directly; the
/// orchestrator stops them in order instead.
/// </summary>
internal sealed partial class ChildProcess : IDisposable
{
    private const int SigKill = 9;
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool _ownGroup;
    private readonly Task _stdout;
    private readonly Task _stderr;

    private ChildProcess(Process process, bool ownGroup, Action<LogStream, string> onLine)
    {
        _process = process;
        _ownGroup = ownGroup;
        ProcessId = process.Id;
        _process.Exited += (_, _) => _exited.TrySetResult(SafeExitCode());
        if (_process.HasExited) _exited.TrySetResult(SafeExitCode());
        _stdout = PumpAsync(process.StandardOutput, LogStream.StandardOutput, onLine);
        _stderr = PumpAsync(process.StandardError, LogStream.StandardError, onLine);
    }

    public int ProcessId { get; }

    /// <summary>Completes with the exit code (128 + signal number for a process ended by a signal).</summary>
    public Task<int> Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>setsid (util-linux) starts the program as leader of a new session and process group, keeping the pid.</summary>
    private static readonly string? SetsidPath = OperatingSystem.IsWindows()
        ? null
        : new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);

    /// <summary>Starts the process; its output lines go to <paramref name="onLine"/> as they come.</summary>
    public static ChildProcess Start(ProcessLaunch launch, Action<LogStream, string> onLine)
    {
        bool ownGroup = SetsidPath is not null;
        var start = new ProcessStartInfo(ownGroup ? SetsidPath! : launch.Command)
        {
            WorkingDirectory = launch.WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (ownGroup) start.ArgumentList.Add(launch.Command);
        foreach (string arg in launch.Args) start.ArgumentList.Add(arg);
        start.Environment.Clear();
        foreach ((string name, string value) in launch.Environment) start.Environment[name] = value;

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            throw new DistributedApplicationException($"Could not start '{launch.Command}' in {launch.WorkingDirectory}: {e.Message}.", e);
        }
        // The children read no input; a closed stdin tells them so instead of leaving them blocked on it.
        process.StandardInput.Close();
        return new ChildProcess(process, ownGroup, onLine);
    }

    /// <summary>SIGTERM to the group, up to <paramref name="grace"/> for the process to exit, then SIGKILL to the group.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (!HasExited)
        {
            Signal(SigTerm);
            await Task.WhenAny(Exited, Task.Delay(grace)).ConfigureAwait(false);
        }
        // Also after a clean exit: whatever the process left behind in its group goes with it.
        Kill();
        await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        await DrainAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
    }

    /// <summary>SIGKILL to the whole group, at once (safe to call from a process-exit handler).</summary>
    public void Kill() => Signal(SigKill);

    /// <summary>Waits a little for the last output lines after an exit (a leftover grandchild may hold the pipes open).</summary>
    public Task DrainAsync(TimeSpan limit) => Task.WhenAny(Task.WhenAll(_stdout, _stderr), Task.Delay(limit));

    private void Signal(int signal)
    {
        if (_ownGroup)
        {
            // A negative pid addresses the process group. It does not exist yet in the moment
            // between the launch and setsid's setsid() call, and no longer once all of it is gone;
            // then the process itself is signalled (an error there means it is gone: fine).
            if (SendSignal(-ProcessId, signal) != 0 && !HasExited) _ = SendSignal(ProcessId, signal);
            return;
        }
        if (HasExited) return;
        if (signal == SigTerm && !OperatingSystem.IsWindows()) _ = SendSignal(ProcessId, signal);
        else
        {
            try { _process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { /* exited meanwhile */ }
        }
    }

    private int SafeExitCode()
    {
        try { return _process.ExitCode; }
        catch (InvalidOperationException) { return -1; }
    }

    private static async Task PumpAsync(StreamReader reader, LogStream stream, Action<LogStream, string> onLine)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line) onLine(stream, line);
        }
        catch (ObjectDisposedException) { /* the process object was disposed after exit */ }
        catch (IOException) { /* pipe broken by a kill */ }
    }

    public void Dispose() => _process.Dispose();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
