using System.Text.Json.Nodes;
using FailureSynth.Datasets.Tests;
using FailureSynth.World;
using FailureSynth.World.Skills;

namespace FailureSynth.Cli.Tests;

public sealed class CommandLineTests
{
    [Fact]
    public void Skills_prints_the_whole_taxonomy()
    {
        (int code, string output) = CliRunner.Run("world", "skills");
        Assert.True(code == 0, output);
        Assert.Contains($"{SkillTaxonomy.All.Count} skills.", output);
        foreach (SkillInfo skill in SkillTaxonomy.All)
            Assert.Contains(skill.Key, output);
    }

    [Fact]
    public void Generate_rejects_an_unknown_profile_listing_the_known_ones()
    {
        using var folder = new TempFolder();
        (int code, string output) = CliRunner.Run("world", "generate", "--profile", "skewed", "--count", "5", "--out", folder.Path);
        Assert.NotEqual(0, code);
        foreach (string name in Profiles.Names) Assert.Contains(name, output);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void Generate_rejects_a_zero_count_naming_the_option()
    {
        using var folder = new TempFolder();
        (int code, string output) = CliRunner.Run("world", "generate", "--profile", "balanced", "--count", "0", "--out", folder.File("x"));
        Assert.Equal(1, code);
        Assert.Contains("--count must be at least 1", output);
        Assert.False(Directory.Exists(folder.File("x")));
    }

    [Fact]
    public void Generate_rejects_an_image_size_out_of_range_in_plain_words()
    {
        using var folder = new TempFolder();
        (int code, string output) = CliRunner.Run("world", "generate", "--profile", "balanced", "--count", "3", "--size", "8", "--out", folder.File("x"));
        Assert.Equal(1, code);
        Assert.Contains("--size must be between 16 and 1024 pixels (got 8).", output);
        Assert.DoesNotContain("Parameter", output);
    }

    [Fact]
    public void Generate_refuses_to_write_into_a_folder_holding_other_files()
    {
        using var folder = new TempFolder();
        string keep = folder.WriteText("notes.txt", "precious");
        (int code, string output) = CliRunner.Run("world", "generate", "--profile", "balanced", "--count", "5", "--out", folder.Path);
        Assert.Equal(1, code);
        Assert.Contains(folder.Path, output);
        Assert.Equal("precious", File.ReadAllText(keep));
    }

    [Theory]
    [InlineData("--final-lr-divisor", "0.5", "--final-lr-divisor (the final learning-rate divisor) must be a finite number >= 1 (got 0.5)")]
    [InlineData("--warmup", "-3", "--warmup must be zero or more (got -3)")]
    public void Student_train_rejects_a_bad_schedule_naming_the_option_and_writes_nothing(string option, string value, string message)
    {
        using var folder = new TempFolder();
        (int code, string output) = CliRunner.Run("student", "train", "--data", folder.Path, "--out", folder.File("s.safetensors"), "--steps", "10", option, value);
        Assert.Equal(1, code);
        Assert.Contains(message, output);
        Assert.False(File.Exists(folder.File("s.safetensors")));
    }

    [Fact]
    public void Inspect_reads_vqa_v2_in_the_official_layout()
    {
        using var folder = new TempFolder();
        (string questions, _) = Fixtures.WriteVqa(folder);
        (int code, string output) = CliRunner.Run("dataset", "inspect", questions);
        Assert.True(code == 0, output);
        Assert.Contains("vqav2", output);
        Assert.Contains($"{Fixtures.VqaQuestions()["questions"]!.AsArray().Count}", output);
    }

    [Fact]
    public void Inspect_rejects_a_vqa_v2_question_without_annotation_naming_it()
    {
        using var folder = new TempFolder();
        JsonObject annotations = Fixtures.VqaAnnotations();
        JsonArray rows = annotations["annotations"]!.AsArray();
        long missingId = rows[^1]!["question_id"]!.GetValue<long>();
        rows.RemoveAt(rows.Count - 1);
        (string questions, _) = Fixtures.WriteVqa(folder, annotations: annotations);

        (int code, string output) = CliRunner.Run("dataset", "inspect", questions);
        Assert.Equal(1, code);
        Assert.Contains($"{missingId}", output);
        Assert.Contains("annotation", output);
    }

    [Fact]
    public void Inspect_reads_scienceqa_in_the_official_layout()
    {
        using var folder = new TempFolder();
        Fixtures.WriteScienceQa(folder);
        (int code, string output) = CliRunner.Run("dataset", "inspect", folder.Path);
        Assert.True(code == 0, output);
        Assert.Contains("scienceqa", output);
        Assert.Contains("train", output);
        Assert.Contains("test", output);
    }

    [Fact]
    public void Inspect_rejects_a_scienceqa_answer_out_of_range_naming_file_record_and_field()
    {
        using var folder = new TempFolder();
        JsonObject problems = Fixtures.ScienceQaProblems();
        problems["2"]!["answer"] = 7;
        Fixtures.WriteScienceQa(folder, problems);

        (int code, string output) = CliRunner.Run("dataset", "inspect", folder.Path);
        Assert.Equal(1, code);
        Assert.Contains("problems.json", output);
        Assert.Contains("\"2\"", output);
        Assert.Contains("answer", output);
    }

    [Fact]
    public void Inspect_reads_llama_factory_data_through_dataset_info()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(3));
        (int code, string output) = CliRunner.Run("dataset", "inspect", folder.File("dataset_info.json"));
        Assert.True(code == 0, output);
        Assert.Contains("llamafactory-sharegpt", output);
    }

    [Fact]
    public void Inspect_refuses_an_image_folder_that_does_not_exist_naming_it()
    {
        using var folder = new TempFolder();
        (string questions, _) = Fixtures.WriteVqa(folder);
        string nowhere = folder.File("no-such-images");
        (int code, string output) = CliRunner.Run("dataset", "inspect", questions, "--images", nowhere);
        Assert.Equal(1, code);
        Assert.Contains($"(VQA v2): the image folder given, {nowhere}, does not exist", output);
    }

    [Fact]
    public void Inspect_calls_an_empty_file_empty()
    {
        using var folder = new TempFolder();
        string empty = folder.WriteText("data.json", "");
        (int code, string output) = CliRunner.Run("dataset", "inspect", empty);
        Assert.Equal(1, code);
        Assert.Contains("data.json: empty (0 bytes)", output);
    }
}
