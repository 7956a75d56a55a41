using FailureSynth.Datasets.Tests;

namespace FailureSynth.Cli.Tests;

/// <summary><c>world generate --format vqav2|scienceqa</c> through the real CLI, read back by <c>dataset inspect</c>.</summary>
public sealed class WorldGenerateFormatTests
{
    [Theory]
    [InlineData("vqav2", "val2015", "OpenEnded_abstract_v002_val2015_questions.json", "VQA v2 layout (split val2015)")]
    [InlineData("scienceqa", "test", "problems.json", "ScienceQA layout (split test)")]
    public void Generated_official_layout_passes_dataset_inspect(string format, string split, string file, string summary)
    {
        using var folder = new TempFolder();
        string output = folder.File(format);
        (int code, string text) = CliRunner.Run("world", "generate", "--profile", "balanced", "--count", "6", "--size", "32", "--out", output, "--format", format);
        Assert.True(code == 0, text);
        Assert.Contains(summary, text);
        Assert.True(File.Exists(Path.Combine(output, file)), text);

        foreach (string[] inspect in new[] { new[] { "dataset", "inspect", output }, ["dataset", "inspect", Path.Combine(output, file), "--format", format] })
        {
            (int inspected, string report) = CliRunner.Run(inspect);
            Assert.True(inspected == 0, report);
            Assert.Contains(format, report);
            Assert.Contains("Samples         6", report);
            Assert.Contains("6 referenced, 0 missing", report);
            Assert.Contains(split, report);
        }
    }

    [Theory]
    [InlineData(new[] { "--format", "coco" }, "'coco' not recognized", "'vqav2'")]
    [InlineData(new[] { "--format", "scienceqa", "--form", "open" }, "--format scienceqa writes multiple-choice problems", "--form choice")]
    [InlineData(new[] { "--format", "vqav2", "--form", "choice" }, "--format vqav2 writes open-ended questions", "--form open")]
    [InlineData(new[] { "--split", "val" }, "--split applies to --format vqav2 or scienceqa", "no split")]
    [InlineData(new[] { "--format", "vqav2", "--split", "a/b" }, "--split \"a/b\" cannot name files", "letters, digits")]
    public void Generate_refuses_a_format_form_or_split_it_cannot_write(string[] options, string message, string hint)
    {
        using var folder = new TempFolder();
        (int code, string text) = CliRunner.Run(["world", "generate", "--profile", "balanced", "--count", "2", "--out", folder.File("x"), .. options]);
        Assert.Equal(1, code);
        Assert.Contains(message, text);
        Assert.Contains(hint, text);
        Assert.False(Directory.Exists(folder.File("x")), "nothing is written when the options are refused");
    }
}
