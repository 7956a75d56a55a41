using System.Text.Json.Nodes;
using FailureSynth.Datasets;

namespace FailureSynth.Datasets.Tests;

public sealed class DatasetInspectorTests
{
    [Fact]
    public void Inspect_summarises_a_generated_dataset_after_verifying_it()
    {
        using var folder = new TempFolder();
        var manifest = Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(4));

        var summary = DatasetInspector.Inspect(folder.Path, top: 2);

        Assert.Equal("failuresynth", summary.Format);
        Assert.Equal(4, summary.SampleCount);
        Assert.Equal(manifest.DatasetSha256, summary.DatasetSha256);
        Assert.Equal([new CountEntry("train", 3), new CountEntry("val", 1)], summary.Splits);
        Assert.Equal([new CountEntry("count", 2), new CountEntry("query_color", 2)], summary.Families);
        Assert.Equal([new CountEntry("color", 4), new CountEntry("count", 2)], summary.TopSkills);
        Assert.Equal(3, summary.DistinctSkills);
        Assert.Equal([new CountEntry("B", 2), new CountEntry("1", 1)], summary.TopAnswers);
        Assert.Equal(3, summary.DistinctAnswers);
        Assert.Equal(0.5, summary.ChoiceFormShare);
        Assert.Equal(new LengthStats(6, 10.0, 6, 14), summary.QuestionWords);
        Assert.Equal(4, summary.ImagesReferenced);
        Assert.Equal(0, summary.ImagesMissing);

        var text = summary.ToText();
        Assert.Contains("Format          failuresynth\n", text, StringComparison.Ordinal);
        Assert.Contains("Samples         4\n", text, StringComparison.Ordinal);
        Assert.Contains("Choice form     50.0 %\n", text, StringComparison.Ordinal);
        Assert.Contains("Skills (top 2 of 3)\n  color  4  100.0 %\n  count  2   50.0 %\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_reads_official_vqa_and_scienceqa_files_and_counts_missing_images()
    {
        using var vqa = new TempFolder();
        Fixtures.WriteVqa(vqa);
        Directory.CreateDirectory(vqa.File("val2014"));
        File.WriteAllBytes(vqa.File("val2014", "COCO_val2014_000000262148.jpg"), Fixtures.TinyPng);

        var vqaSummary = DatasetInspector.Inspect(vqa.Path);

        Assert.Equal("vqav2", vqaSummary.Format);
        Assert.Equal(4, vqaSummary.SampleCount);
        Assert.Equal(2, vqaSummary.ImagesReferenced);
        Assert.Equal(1, vqaSummary.ImagesMissing);
        Assert.Equal([new CountEntry("other", 2), new CountEntry("number", 1), new CountEntry("yes/no", 1)], vqaSummary.Families);
        Assert.Null(vqaSummary.DatasetSha256);

        using var scienceQa = new TempFolder();
        Fixtures.WriteScienceQa(scienceQa);

        var scienceSummary = DatasetInspector.Inspect(scienceQa.Path);

        Assert.Equal("scienceqa", scienceSummary.Format);
        Assert.Equal(1.0, scienceSummary.ChoiceFormShare);
        Assert.Equal([new CountEntry("train", 2), new CountEntry("test", 1), new CountEntry("val", 1)], scienceSummary.Splits);
        Assert.Equal(2, scienceSummary.ImagesMissing);
        Assert.Contains("Images          2 referenced, 2 missing", scienceSummary.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_rejects_a_modified_image_naming_the_file()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(3));
        var png = folder.File("images", "sw-test-000002.png");
        var bytes = File.ReadAllBytes(png);
        bytes[^1] ^= 0x01;
        File.WriteAllBytes(png, bytes);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetInspector.Inspect(folder.Path));

        Assert.Equal(png, error.File);
        Assert.StartsWith("sw-test-000002.png (FailureSynth dataset): manifest entry \"images/sw-test-000002.png\": sha256 ", error.Message, StringComparison.Ordinal);
        Assert.Contains("the folder no longer matches manifest.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_rejects_an_image_that_is_not_a_png_even_with_a_matching_manifest()
    {
        using var folder = new TempFolder();
        var manifest = Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(3));
        var png = folder.File("images", "sw-test-000001.png");
        File.WriteAllText(png, "GIF89a not a png");
        DatasetManifest.Build(folder.Path, manifest.Name, manifest.SampleCount, manifest.FamilyCounts, manifest.SkillCounts).Write(folder.Path);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetInspector.Inspect(folder.Path));

        Assert.Equal(png, error.File);
        Assert.Equal("sw-test-000001", error.RecordId);
        Assert.Equal("image", error.Field);
        Assert.Contains("is not a PNG file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_rejects_edited_manifest_counts()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(3));
        var manifest = JsonNode.Parse(File.ReadAllText(folder.File("manifest.json")))!;
        manifest["counts"]!["family"]!["count"] = 7;
        File.WriteAllText(folder.File("manifest.json"), manifest.ToJsonString());

        var error = Assert.Throws<DatasetFormatException>(() => DatasetInspector.Inspect(folder.Path));

        Assert.Equal(folder.File("manifest.json"), error.File);
        Assert.Equal("counts.family.count", error.Field);
        Assert.Contains("7 but the samples have 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Provenance_that_disagrees_with_llava_is_rejected_at_its_line()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(3));
        var path = folder.File("provenance.jsonl");
        var lines = File.ReadAllLines(path);
        lines[1] = lines[1].Replace("\"answer\":\"B\"", "\"answer\":\"C\"", StringComparison.Ordinal);
        File.WriteAllText(path, string.Join('\n', lines) + "\n");

        var error = Assert.Throws<DatasetFormatException>(() => DatasetInspector.Inspect(folder.Path));

        Assert.Equal(path, error.File);
        Assert.Equal(2, error.Line);
        Assert.Equal("sw-test-000001", error.RecordId);
        Assert.Equal("answer", error.Field);
        Assert.Contains("\"C\" differs from llava.json record 1 (\"B\")", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_rejects_a_dataset_folder_whose_image_was_deleted()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(3));
        File.Delete(folder.File("images", "sw-test-000000.png"));

        var error = Assert.Throws<DatasetFormatException>(() => DatasetInspector.Inspect(folder.Path));

        Assert.Equal(folder.File("llava.json"), error.File);
        Assert.Equal(0, error.RecordIndex);
        Assert.Equal("image", error.Field);
        Assert.Contains("not found at", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_requires_the_manifest_of_a_dataset_folder()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(2));
        File.Delete(folder.File("manifest.json"));

        var error = Assert.Throws<DatasetFormatException>(() => DatasetInspector.Inspect(folder.Path));

        Assert.Equal(folder.File("manifest.json"), error.File);
        Assert.Contains("not completed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Detect_tells_formats_apart_by_name_and_content()
    {
        using var folder = new TempFolder();
        var dataset = folder.File("ds");
        Fixtures.WriteDataset(dataset, Fixtures.ShapesRecords(1));
        var llava = folder.Write("mix.json", new JsonArray());
        var jsonl = folder.WriteText("a.jsonl", "{\"id\":\"q1\",\"question\":\"Why?\",\"answer\":\"yes\"}\n");
        var other = folder.Write("config.json", new JsonObject());

        Assert.Equal(DatasetFormat.FailureSynth, DatasetReader.Detect(dataset));
        Assert.Equal(DatasetFormat.Llava, DatasetReader.Detect(Path.Combine(dataset, "llava.json")));
        Assert.Equal(DatasetFormat.Llava, DatasetReader.Detect(llava));
        Assert.Equal(DatasetFormat.Jsonl, DatasetReader.Detect(jsonl));
        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Detect(other));
        Assert.Contains("cannot tell the dataset format", error.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(folder.File("nope.json")));
        Assert.Contains("no such file or folder", missing.Message, StringComparison.Ordinal);
    }
}
