using FailureSynth.Datasets.Tests;

namespace FailureSynth.Cli.Tests;

public sealed class CampaignCommandTests
{
    [Fact]
    public void Campaign_run_with_a_missing_config_file_names_it_and_writes_nothing()
    {
        using var folder = new TempFolder();
        (int code, string output) = CliRunner.Run("campaign", "run", "--config", folder.File("nope.yaml"), "--out", folder.File("out"));
        Assert.Equal(1, code);
        Assert.Contains("nope.yaml", output);
        Assert.Contains("does not exist", output);
        Assert.False(Directory.Exists(folder.File("out")));
    }

    [Fact]
    public void Campaign_run_with_a_bad_config_lists_every_bad_key()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("bad.yaml"), "name: x\niterations: 0\nlocate: { method: guess }\n");
        (int code, string output) = CliRunner.Run("campaign", "run", "--config", folder.File("bad.yaml"), "--out", folder.File("out"));
        Assert.Equal(1, code);
        Assert.Contains("iterations must be 1..20", output);
        Assert.Contains("locate.method 'guess'", output);
        Assert.False(Directory.Exists(folder.File("out")));
    }

    [Fact]
    public void Experiment_rejects_an_unknown_name_and_lists_the_known_ones()
    {
        using var folder = new TempFolder();
        (int code, string output) = CliRunner.Run("experiment", "best-arm", "--out", folder.File("out"));
        Assert.NotEqual(0, code);
        foreach (string name in new[] { "targeted-vs-random", "retrieval", "ablations", "locate-accuracy", "iterations" }) Assert.Contains(name, output);
    }
}
