using System.Text.Json.Nodes;
using FailureSynth.Datasets.Tests;
using FailureSynth.Imaging;
using FailureSynth.Testing;
using FailureSynth.World;
using FailureSynth.World.Rendering;
using FailureSynth.World.Scenes;

namespace FailureSynth.Cli.Tests;

/// <summary>One base-skewed dataset generated through the real CLI, shared by the tests that read it.</summary>
public sealed class GeneratedDataset : IDisposable
{
    public const int Count = 600;
    private readonly TempFolder _folder = new();

    public GeneratedDataset()
    {
        OneThread = _folder.File("one-thread");
        AllCores = _folder.File("all-cores");
        (int code1, string out1) = CliRunner.Run("world", "generate", "--profile", "base-skewed", "--count", $"{Count}", "--seed", "7", "--out", OneThread, "--threads", "1");
        Assert.True(code1 == 0, out1);
        (int code2, string out2) = CliRunner.Run("world", "generate", "--profile", "base-skewed", "--count", $"{Count}", "--seed", "7", "--out", AllCores);
        Assert.True(code2 == 0, out2);
        GenerateOutput = out1;
    }

    public string OneThread { get; }
    public string AllCores { get; }
    public string GenerateOutput { get; }

    public void Dispose() => _folder.Dispose();
}

public sealed class WorldGenerateTests(GeneratedDataset dataset) : IClassFixture<GeneratedDataset>
{
    [Fact]
    public void Same_seed_gives_byte_identical_manifest_whatever_the_thread_count()
    {
        byte[] a = File.ReadAllBytes(Path.Combine(dataset.OneThread, "manifest.json"));
        byte[] b = File.ReadAllBytes(Path.Combine(dataset.AllCores, "manifest.json"));
        Assert.Equal(a, b);
        Assert.Contains($"Wrote {GeneratedDataset.Count} samples", dataset.GenerateOutput);
    }

    [Fact]
    public void An_exported_profile_read_back_gives_byte_identical_data()
    {
        using var folder = new TempFolder();
        (int code, string yaml) = CliRunner.Run("world", "profiles", "--export", "base-skewed");
        Assert.True(code == 0, yaml);
        string profile = folder.File("mine.yaml");
        File.WriteAllText(profile, yaml);
        string copy = folder.File("from-file");
        (int code2, string output) = CliRunner.Run("world", "generate", "--profile-file", profile, "--count", $"{GeneratedDataset.Count}", "--seed", "7", "--out", copy, "--threads", "1");
        Assert.True(code2 == 0, output);
        string[] ours = [.. Directory.GetFiles(dataset.OneThread, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dataset.OneThread, f)).Order(StringComparer.Ordinal)];
        string[] theirs = [.. Directory.GetFiles(copy, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(copy, f)).Order(StringComparer.Ordinal)];
        Assert.Equal(ours, theirs);
        foreach (string file in ours)
            Assert.True(File.ReadAllBytes(Path.Combine(dataset.OneThread, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(copy, file))), $"{file} differs");
    }

    [Fact]
    public void Generate_wants_exactly_one_profile_and_names_a_bad_profile_file()
    {
        using var folder = new TempFolder();
        (int code, string output) = CliRunner.Run("world", "generate", "--count", "5", "--out", folder.File("a"));
        Assert.NotEqual(0, code);
        Assert.Contains("exactly one of --profile NAME and --profile-file PATH", output);
        string bad = folder.File("bad.yaml");
        File.WriteAllText(bad, "name: bad\ncolors: { pink: 1 }\n");
        (int code2, string output2) = CliRunner.Run("world", "generate", "--profile-file", bad, "--count", "5", "--out", folder.File("b"));
        Assert.Equal(1, code2);
        Assert.Contains("unknown key 'colors.pink'", output2);
        Assert.Contains("bad.yaml", output2);
    }

    [Fact]
    public void Different_seed_gives_a_different_dataset()
    {
        using var folder = new TempFolder();
        (int code, string output) = CliRunner.Run("world", "generate", "--profile", "base-skewed", "--count", "50", "--seed", "8", "--out", folder.Path);
        Assert.True(code == 0, output);
        string other = JsonNode.Parse(File.ReadAllText(folder.File("manifest.json")))!["dataset_sha256"]!.GetValue<string>();
        string ours = JsonNode.Parse(File.ReadAllText(Path.Combine(dataset.OneThread, "manifest.json")))!["dataset_sha256"]!.GetValue<string>();
        Assert.NotEqual(ours, other);
    }

    [Fact]
    public void Every_generated_png_passes_pngcheck()
    {
        string[] pngs = Directory.GetFiles(Path.Combine(dataset.OneThread, "images"), "*.png");
        Assert.Equal(GeneratedDataset.Count, pngs.Length);
        (int code, string output) = ExternalTools.PngCheck(pngs);
        Assert.True(code == 0, output);
        Assert.Equal(GeneratedDataset.Count, output.Split('\n').Count(line => line.StartsWith("OK:", StringComparison.Ordinal)));
    }

    [Fact]
    public void Decoded_pngs_reproduce_the_rendered_scene_pixels_exactly()
    {
        foreach (string line in File.ReadLines(Path.Combine(dataset.OneThread, "provenance.jsonl")))
        {
            JsonNode record = JsonNode.Parse(line)!;
            var scene = WorldJson.Deserialize<Scene>(record["provenance"]!["scene"]!.ToJsonString());
            RgbImage expected = SceneRasterizer.Render(scene, record["provenance"]!["image_size"]!.GetValue<int>());
            RgbImage decoded = PngDecoder.DecodeFile(Path.Combine(dataset.OneThread, record["image"]!.GetValue<string>()));
            Assert.True(expected.PixelsEqual(decoded), $"{record["id"]}: {expected.DescribeFirstDifference(decoded)}");
        }
    }

    [Fact]
    public void Inspect_validates_and_summarises_the_generated_dataset()
    {
        (int code, string output) = CliRunner.Run("dataset", "inspect", dataset.OneThread);
        Assert.True(code == 0, output);
        Assert.Contains("failuresynth", output);
        Assert.Contains($"{GeneratedDataset.Count}", output);
        Assert.Contains("Manifest", output);
        Assert.Contains("verified", output);
    }

    [Fact]
    public void Inspect_rejects_a_dataset_whose_image_was_altered()
    {
        using var folder = new TempFolder();
        string copy = folder.File("copy");
        CopyDirectory(dataset.OneThread, copy);
        string image = Directory.GetFiles(Path.Combine(copy, "images"), "*.png").Order(StringComparer.Ordinal).First();
        byte[] bytes = File.ReadAllBytes(image);
        bytes[^20] ^= 0xFF;
        File.WriteAllBytes(image, bytes);

        (int code, string output) = CliRunner.Run("dataset", "inspect", copy);
        Assert.Equal(1, code);
        Assert.Contains("images/" + Path.GetFileName(image), output);
        Assert.DoesNotContain("   at ", output); // a message, not a stack trace
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(dir.Replace(from, to));
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(from, to));
    }
}
