using System.Globalization;
using System.Runtime.InteropServices;

namespace FailureSynth.Hosting.RabbitMQ;

/// <summary>
/// The few POSIX process operations .NET does not offer: sending SIGTERM (Process.Kill only sends
/// SIGKILL), telling a zombie from a live process, and listing a process's descendants, which the
/// broker's launcher script must be asked about before it exits and orphans them.
/// </summary>
internal static unsafe class UnixProcesses
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    // glibc ships a linker script named libc.so, which dlopen cannot load: ask for the real object.
    private static readonly nint LibC = NativeLibrary.Load(OperatingSystem.IsLinux() ? "libc.so.6" : "libc");
    private static readonly delegate* unmanaged<int, int, int> KillFunction =
        (delegate* unmanaged<int, int, int>)NativeLibrary.GetExport(LibC, "kill");

    /// <summary>Sends a signal; false when the process no longer exists.</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && KillFunction(pid, signal) == 0;

    /// <summary>True while the process runs; a zombie (exited, not yet reaped) counts as gone.</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0) return false;
        if (OperatingSystem.IsLinux())
        {
            ProcessStat? stat = ReadStat(pid);
            return stat is not null && stat.State is not ('Z' or 'X');
        }
        return KillFunction(pid, 0) == 0;
    }

    /// <summary>A process as /proc shows it: the start time tells a process from a later one reusing its id.</summary>
    public sealed record ProcessStat(int Pid, int ParentPid, char State, ulong StartTime, string Command);

    /// <summary>Every live descendant of a process (Linux; empty elsewhere), children before grandchildren.</summary>
    public static IReadOnlyList<ProcessStat> Descendants(int rootPid)
    {
        if (!OperatingSystem.IsLinux()) return [];
        var byParent = new Dictionary<int, List<ProcessStat>>();
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            ProcessStat? stat = ReadStat(pid);
            if (stat is null || stat.State is 'Z' or 'X') continue;
            if (!byParent.TryGetValue(stat.ParentPid, out var children)) byParent[stat.ParentPid] = children = [];
            children.Add(stat);
        }
        var result = new List<ProcessStat>();
        var pending = new Queue<int>([rootPid]);
        while (pending.TryDequeue(out int parent))
        {
            if (!byParent.TryGetValue(parent, out var children)) continue;
            foreach (ProcessStat child in children.OrderBy(c => c.Pid))
            {
                result.Add(child);
                pending.Enqueue(child.Pid);
            }
        }
        return result;
    }

    /// <summary>True when the same process (same id and start time) still runs.</summary>
    public static bool IsStillRunning(ProcessStat process)
    {
        ProcessStat? now = ReadStat(process.Pid);
        return now is not null && now.StartTime == process.StartTime && now.State is not ('Z' or 'X');
    }

    private static ProcessStat? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // gone between listing and reading
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        // "pid (comm) state ppid ... starttime(22nd field) ..."; comm may itself contain ") ".
        int open = text.IndexOf('(');
        int close = text.LastIndexOf(')');
        if (open < 0 || close < open) return null;
        string command = text[(open + 1)..close];
        string[] fields = text[(close + 2)..].Split(' ');
        if (fields.Length < 20) return null;
        return new ProcessStat(
            pid,
            int.Parse(fields[1], CultureInfo.InvariantCulture),
            fields[0][0],
            ulong.Parse(fields[19], CultureInfo.InvariantCulture),
            command);
    }
}
