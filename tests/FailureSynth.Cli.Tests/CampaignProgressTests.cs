using System.Text.RegularExpressions;
using FailureSynth.Datasets.Tests;
using FailureSynth.Testing;

namespace FailureSynth.Cli.Tests;

/// <summary>
/// `campaign run` shows progress the way its output can take it: a live display, one line per stage redrawn in place,
/// on a terminal (a pseudo-terminal from `script`), and plain lines with no escape codes when the output is redirected.
/// </summary>
public sealed partial class CampaignProgressTests
{
    [Fact]
    public void Campaign_progress_is_a_live_display_on_a_terminal_and_plain_lines_when_redirected()
    {
        using var folder = new TempFolder();
        string data = folder.File("data");
        string checkpoint = folder.File("student.safetensors");
        var (generated, generateOutput) = CliRunner.Run("world", "generate", "--profile", "base-skewed", "--count", "200", "--seed", "1", "--out", data);
        Assert.True(generated == 0, generateOutput);
        var (trained, trainOutput) = CliRunner.Run("student", "train", "--data", data, "--out", checkpoint, "--steps", "8", "--threads", "2");
        Assert.True(trained == 0, trainOutput);
        string config = folder.File("tiny.yaml");
        File.WriteAllText(config, $"""
            name: tiny
            threads: 2
            iterations: 1
            student: {"{"} checkpoint: {checkpoint} {"}"}
            validation: {"{"} count: 60, seed: 101 {"}"}
            test: {"{"} count: 60, seed: 2 {"}"}
            budget: {"{"} failures: 20, samples: 20, train_steps: 2 {"}"}
            teacher: {"{"} prior_samples: 1000 {"}"}
            """);

        // Redirected: plain lines, each naming the stage and its count; no escape codes.
        var (plainCode, plain) = CliRunner.Run("campaign", "run", "--config", config, "--out", folder.File("plain"));
        Assert.True(plainCode == 0, plain);
        Assert.DoesNotContain('\u001b', plain);
        var progressLines = plain.Split('\n').Where(l => l.StartsWith('[')).ToList();
        foreach (string stage in new[] { "evaluate", "locate", "diagnose", "prescribe", "train", "measure", "dataset" })
            Assert.Contains(progressLines, l => PlainLine().IsMatch(l) && l.Contains($"iteration 1: {stage}:", StringComparison.Ordinal));
        // Every stage ends as done: the dataset stage once ended as "0/N stopped".
        Assert.DoesNotContain(progressLines, l => l.Contains("stopped", StringComparison.Ordinal));

        // On a terminal: each stage's line redrawn in place (carriage returns), and once it ends one line per stage on screen.
        string dll = Path.Combine(AppContext.BaseDirectory, "failuresynth.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        string command = $"env TERM=xterm-256color '{dotnet}' exec '{dll}' campaign run --config '{config}' --out '{folder.File("live")}'";
        var (liveCode, live) = ExternalTools.Run("script", ["-qec", command, "/dev/null"]);
        Assert.True(liveCode == 0, live);
        Assert.DoesNotMatch(PlainLine(), live);
        // The terminal turns each newline into CR LF; what stays on screen of a line is the text after its last CR.
        var screen = live.Replace("\u001b[K", "", StringComparison.Ordinal).Split('\n')
            .Select(l => l.TrimEnd('\r')).Select(l => l[(l.LastIndexOf('\r') + 1)..]).ToList();
        int redrawn = live.Split('\n').Count(l => l.TrimEnd('\r').Contains('\r', StringComparison.Ordinal));
        Assert.True(redrawn >= 6, $"only {redrawn} lines were redrawn in place:\n{live}");
        foreach (string stage in new[] { "evaluate", "locate", "diagnose", "prescribe", "train", "measure", "dataset" })
        {
            var lines = screen.Where(l => l.StartsWith($"iteration 1: {stage}:", StringComparison.Ordinal)).ToList();
            Assert.True(lines.Count == 1, $"stage {stage} has {lines.Count} lines on screen:\n{string.Join('\n', screen)}");
            Assert.Matches(@": (\d+)/\1 done in ", lines[0]);
        }
        // Both runs are the same campaign: the display does not change the result.
        Assert.Equal(File.ReadAllText(folder.File("plain/dataset/manifest.json")), File.ReadAllText(folder.File("live/dataset/manifest.json")));
    }

    [GeneratedRegex(@"^\[\s*\d+\.\ds\] iteration 1: [a-z]+: \d+/\d+", RegexOptions.Multiline)]
    private static partial Regex PlainLine();
}
