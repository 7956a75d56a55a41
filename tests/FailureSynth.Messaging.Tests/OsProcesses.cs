namespace FailureSynth.Messaging.Tests;

/// <summary>Looks at /proc to check that a node's processes are really gone (a zombie counts as gone).</summary>
public static class OsProcesses
{
    public static bool IsRunning(int pid)
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

    public static List<int> Mentioning(string text)
    {
        var found = new List<int>();
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(directory, "cmdline")).Contains(text, StringComparison.Ordinal) && IsRunning(pid)) found.Add(pid);
            }
            catch (IOException)
            {
                // exited while listing
            }
        }
        return found;
    }
}
