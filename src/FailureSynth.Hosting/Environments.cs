using System.Collections;

namespace FailureSynth.Hosting;

/// <summary>The AppHost's own environment, which every child starts from, and program lookup on PATH.</summary>
internal static class Environments
{
    public static Dictionary<string, string> Inherited()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            variables[(string)entry.Key] = (string?)entry.Value ?? "";
        return variables;
    }

    /// <summary>The full path of an executable named without a folder, searched on PATH as the shell would.</summary>
    public static string? FindOnPath(string program)
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (string folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
