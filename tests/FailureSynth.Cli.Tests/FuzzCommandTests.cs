using FailureSynth.Datasets.Tests;

namespace FailureSynth.Cli.Tests;

public sealed class FuzzCommandTests
{
    [Fact]
    public void Fuzz_runs_the_inputs_asked_for_and_writes_its_report()
    {
        using var folder = new TempFolder();
        (int code, string output) = CliRunner.Run("fuzz", "campaign-yaml", "--seed", "5", "--inputs", "300", "--out", folder.Path);
        Assert.True(code == 0, output);
        Assert.Contains("campaign-yaml: seed 5, 300 inputs in", output);
        Assert.Contains("0 findings", output);
        Assert.Contains("\"inputs\": 300", File.ReadAllText(folder.File("fuzz.json")));
    }

    [Fact]
    public void Fuzz_replays_one_input_and_reports_the_peak_memory()
    {
        using var folder = new TempFolder();
        string input = folder.WriteText("bang.yaml", "!![");
        (int code, string output) = CliRunner.Run("fuzz", "campaign-yaml", "--input", input);
        Assert.True(code == 0, output);
        Assert.Contains("refused (CampaignConfigException)", output);
        Assert.Contains("process peak (VmHWM)", output);
    }

    [Fact]
    public void Fuzz_refuses_an_unknown_target_listing_the_known_ones()
    {
        (int code, string output) = CliRunner.Run("fuzz", "gif", "--inputs", "10");
        Assert.Equal(1, code);
        Assert.Contains("unknown fuzz target 'gif'", output);
        Assert.Contains("png, llava", output);
    }
}
