using System.Text.RegularExpressions;
using FailureSynth.Testing;

namespace FailureSynth.Cli.Tests;

/// <summary>`--help` everywhere: every command of the CLI, and ./run.sh, which must start nothing.</summary>
public sealed partial class HelpTests
{
    [Fact]
    public void Every_command_and_subcommand_answers_help_and_h_with_its_usage()
    {
        var seen = new List<string>();
        var pending = new Queue<string[]>([[]]);
        while (pending.Count > 0)
        {
            string[] path = pending.Dequeue();
            foreach (string flag in new[] { "--help", "-h" })
            {
                (int code, string output) = CliRunner.Run([.. path, flag]);
                string name = string.Join(' ', ["failuresynth", .. path]);
                Assert.True(code == 0, $"`{name} {flag}` exited {code}:\n{output}");
                Assert.Contains($"Usage:\n  {name}", output.ReplaceLineEndings("\n"));
                Assert.DoesNotContain("error", output, StringComparison.OrdinalIgnoreCase);
                if (flag == "-h") continue;
                seen.Add(name);
                foreach (string sub in Subcommands(output)) pending.Enqueue([.. path, sub]);
            }
        }
        // The walk found the whole tree (a command list that stopped parsing would leave it short).
        foreach (string expected in new[] { "failuresynth world generate", "failuresynth dataset inspect", "failuresynth student compare", "failuresynth campaign run", "failuresynth bench student", "failuresynth experiment" })
            Assert.Contains(expected, seen);
    }

    [Fact]
    public void Run_sh_help_prints_usage_and_starts_nothing()
    {
        string root = RepoRoot();
        foreach (string flag in new[] { "--help", "-h" })
        {
            (int code, string output) = ExternalTools.Run("bash", [Path.Combine(root, "run.sh"), flag], root);
            Assert.True(code == 0, output);
            Assert.StartsWith("Usage: ./run.sh [OUT_DIR]", output);
            // Nothing started: no prerequisite check, no build, no campaign folder named after the flag (the old behaviour).
            Assert.DoesNotContain("Building", output);
            Assert.DoesNotContain("install", output.Replace("Missing OS packages are installed first", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
            Assert.False(Directory.Exists(Path.Combine(root, flag)), $"./run.sh {flag} created a folder named {flag}");
            Assert.False(Directory.Exists(Path.Combine(root, "out", flag)));
        }
        (int unknown, string message) = ExternalTools.Run("bash", [Path.Combine(root, "run.sh"), "--out"], root);
        Assert.Equal(2, unknown);
        Assert.Contains("unknown option '--out'", message);
    }

    private static IEnumerable<string> Subcommands(string help)
    {
        int at = help.IndexOf("Commands:", StringComparison.Ordinal);
        if (at < 0) yield break;
        foreach (Match m in CommandLine().Matches(help[at..])) yield return m.Groups[1].Value;
    }

    [GeneratedRegex(@"^  ([a-z][a-z-]*)\b", RegexOptions.Multiline)]
    private static partial Regex CommandLine();

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FailureSynth.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
    }
}
