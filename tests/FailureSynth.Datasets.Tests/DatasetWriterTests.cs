using System.Text;
using System.Text.Json.Nodes;
using FailureSynth.Datasets;

namespace FailureSynth.Datasets.Tests;

public sealed class DatasetWriterTests
{
    [Fact]
    public void Written_dataset_reads_back_with_every_sample_field()
    {
        using var folder = new TempFolder();
        var records = Fixtures.ShapesRecords();
        var manifest = Fixtures.WriteDataset(folder.Path, records);

        var dataset = DatasetReader.Load(folder.Path);

        Assert.Equal("failuresynth", dataset.Format);
        Assert.Equal(records.Count, dataset.Samples.Count);
        Assert.Equal(records.Count, manifest.SampleCount);
        for (var i = 0; i < records.Count; i++)
        {
            var expected = records[i].Sample;
            var actual = dataset.Samples[i];
            Assert.Equal(expected.Id, actual.Id);
            Assert.Equal($"images/{expected.Id}.png", actual.Image);
            Assert.Equal(expected.Question, actual.Question);
            Assert.Equal(expected.Answer, actual.Answer);
            Assert.Equal(expected.Choices, actual.Choices);
            Assert.Equal(expected.AnswerText, actual.AnswerText);
            Assert.Equal(expected.Family, actual.Family);
            Assert.Equal(expected.Skills, actual.Skills);
            Assert.Equal(expected.Steps, actual.Steps);
            Assert.Equal(expected.Split, actual.Split);
            Assert.Equal("failuresynth", actual.Source);
            Assert.Equal(Fixtures.TinyPng, File.ReadAllBytes(Path.Combine(folder.Path, actual.Image!)));
        }

        // The LLaVA file alone reads back too, as a trainer would see it.
        var llava = DatasetReader.LoadLlava(folder.File("llava.json"));
        Assert.Equal(records.Select(r => r.Sample.Question), llava.Samples.Select(s => s.Question));
    }

    [Fact]
    public void Llava_record_has_image_images_and_image_token_in_the_first_human_turn()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(2));

        var text = File.ReadAllText(folder.File("llava.json"));

        var expected =
            """
            [
              {
                "id": "sw-test-000000",
                "image": "images/sw-test-000000.png",
                "images": [
                  "images/sw-test-000000.png"
                ],
                "conversations": [
                  {
                    "from": "human",
                    "value": "<image>\nHow many red circles are there?"
                  },
                  {
                    "from": "gpt",
                    "value": "1"
                  }
                ]
              },
            """;
        Assert.StartsWith(expected.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\n]\n", text, StringComparison.Ordinal);
        var second = Fixtures.Parse(folder.File("llava.json"))[1]!;
        Assert.Equal("<image>\nWhat color is the large square?\nA. red\nB. blue\nC. green\nD. yellow", (string?)second["conversations"]![0]!["value"]);
        Assert.Equal("B", (string?)second["conversations"]![1]!["value"]);
    }

    [Fact]
    public void Provenance_line_holds_the_sample_and_the_callers_provenance()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(2));

        var lines = File.ReadAllText(folder.File("provenance.jsonl")).Split('\n');

        Assert.Equal(3, lines.Length);
        Assert.Equal("", lines[2]);
        Assert.Equal(
            "{\"id\":\"sw-test-000000\",\"image\":\"images/sw-test-000000.png\",\"question\":\"How many red circles are there?\",\"answer\":\"1\","
            + "\"family\":\"count\",\"skills\":[\"count\",\"color\"],\"steps\":[{\"index\":0,\"question\":\"Which objects are red?\",\"answer\":\"objects 1, 3\"},"
            + "{\"index\":1,\"question\":\"Which of them are circles?\",\"answer\":\"object 3\"}],\"split\":\"train\","
            + "\"provenance\":{\"seed\":1000,\"scene\":{\"objects\":3,\"background\":\"white\",\"jitter\":0.25},\"program\":[\"scene\",\"filter_color[red]\",\"filter_shape[circle]\",\"count\"]}}",
            lines[0]);
    }

    [Fact]
    public void Dataset_info_registers_llava_json_in_the_sharegpt_layout()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(2), name: "shapes_count");

        var info = Fixtures.Parse(folder.File("dataset_info.json")).AsObject();

        var entry = Assert.Single(info);
        Assert.Equal("shapes_count", entry.Key);
        Assert.Equal("llava.json", (string?)entry.Value!["file_name"]);
        Assert.Equal("sharegpt", (string?)entry.Value["formatting"]);
        Assert.Equal("conversations", (string?)entry.Value["columns"]!["messages"]);
        Assert.Equal("images", (string?)entry.Value["columns"]!["images"]);
        Assert.Equal("from", (string?)entry.Value["tags"]!["role_tag"]);
        Assert.Equal("value", (string?)entry.Value["tags"]!["content_tag"]);
        Assert.Equal("human", (string?)entry.Value["tags"]!["user_tag"]);
        Assert.Equal("gpt", (string?)entry.Value["tags"]!["assistant_tag"]);
    }

    [Fact]
    public void Same_records_give_byte_identical_files()
    {
        using var first = new TempFolder();
        using var second = new TempFolder();
        var a = Fixtures.WriteDataset(first.Path, Fixtures.ShapesRecords(6));
        var b = Fixtures.WriteDataset(second.Path, Fixtures.ShapesRecords(6));

        var filesA = Directory.GetFiles(first.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(first.Path, f)).Order(StringComparer.Ordinal).ToList();
        var filesB = Directory.GetFiles(second.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(second.Path, f)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(filesA, filesB);
        Assert.Equal(10, filesA.Count);
        foreach (var file in filesA)
            Assert.Equal(File.ReadAllBytes(Path.Combine(first.Path, file)), File.ReadAllBytes(Path.Combine(second.Path, file)));
        Assert.Equal(a.DatasetSha256, b.DatasetSha256);
    }

    [Fact]
    public void Manifest_lists_every_other_file_sorted_with_counts_and_no_bom()
    {
        using var folder = new TempFolder();
        var manifest = Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(3));

        var bytes = File.ReadAllBytes(folder.File("manifest.json"));
        var text = Encoding.UTF8.GetString(bytes);

        Assert.Equal((byte)'{', bytes[0]);
        Assert.DoesNotContain('\r', text);
        Assert.EndsWith("}\n", text, StringComparison.Ordinal);
        Assert.Equal(
            ["dataset_info.json", "images/sw-test-000000.png", "images/sw-test-000001.png", "images/sw-test-000002.png", "llava.json", "provenance.jsonl"],
            manifest.Files.Select(f => f.Path));
        Assert.Equal(Fixtures.TinyPng.Length, manifest.Files[1].Bytes);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Fixtures.TinyPng)), manifest.Files[1].Sha256);

        var json = JsonNode.Parse(text)!;
        Assert.Equal("failuresynth-dataset", (string?)json["format"]);
        Assert.Equal(1, (int)json["version"]!);
        Assert.Equal("shapes_test", (string?)json["name"]);
        Assert.Equal(3, (int)json["sample_count"]!);
        Assert.Equal("{\"count\":2,\"query_color\":1}", json["counts"]!["family"]!.ToJsonString());
        Assert.Equal("{\"color\":3,\"count\":2,\"size\":1}", json["counts"]!["skill"]!.ToJsonString());
        var lines = string.Concat(manifest.Files.Select(f => $"{f.Path}\t{f.Sha256}\n"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(lines))), (string?)json["dataset_sha256"]);
        var read = DatasetManifest.Read(folder.Path);
        Assert.Equal((manifest.Name, manifest.SampleCount, manifest.DatasetSha256), (read.Name, read.SampleCount, read.DatasetSha256));
        Assert.Equal(manifest.Files, read.Files);
        Assert.Equal(manifest.FamilyCounts, read.FamilyCounts);
        Assert.Equal(manifest.SkillCounts, read.SkillCounts);
    }

    [Fact]
    public void Verify_accepts_the_written_folder_and_names_modified_missing_and_extra_files()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(3));
        Assert.True(DatasetManifest.Verify(folder.Path).IsValid);

        var png = folder.File("images", "sw-test-000001.png");
        var tampered = File.ReadAllBytes(png);
        tampered[^5] ^= 0xFF;
        File.WriteAllBytes(png, tampered);
        File.Delete(folder.File("images", "sw-test-000002.png"));
        folder.WriteText("notes.txt", "added later");

        var verification = DatasetManifest.Verify(folder.Path);

        Assert.False(verification.IsValid);
        Assert.Equal(
            [("images/sw-test-000001.png", ManifestIssueKind.Modified), ("images/sw-test-000002.png", ManifestIssueKind.Missing), ("notes.txt", ManifestIssueKind.Extra)],
            verification.Issues.Select(i => (i.Path, i.Kind)));
    }

    [Fact]
    public void Verify_detects_an_edited_manifest_hash()
    {
        using var folder = new TempFolder();
        var manifest = Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(2));
        var text = File.ReadAllText(folder.File("manifest.json"));
        File.WriteAllText(folder.File("manifest.json"), text.Replace(manifest.DatasetSha256, new string('0', 64), StringComparison.Ordinal));

        var issue = Assert.Single(DatasetManifest.Verify(folder.Path).Issues);

        Assert.Equal(ManifestIssueKind.DatasetHashMismatch, issue.Kind);
    }

    [Fact]
    public void Writer_refuses_a_folder_that_holds_other_files_unless_told_to_overwrite()
    {
        using var folder = new TempFolder();
        folder.WriteText("thesis.tex", "precious");

        var error = Assert.Throws<IOException>(() => new DatasetWriter(folder.Path, "x"));
        Assert.Contains("is not empty and is not a complete FailureSynth dataset", error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(folder.File("thesis.tex")));

        using (var writer = new DatasetWriter(folder.Path, "x", new DatasetWriterOptions(Overwrite: true)))
        {
            writer.Add(Fixtures.ShapesRecords(1)[0]);
            writer.Complete();
        }

        Assert.False(File.Exists(folder.File("thesis.tex")));
        Assert.True(DatasetManifest.Verify(folder.Path).IsValid);
    }

    [Fact]
    public void Writer_replaces_an_existing_dataset_in_place()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(4));
        var again = Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(2));

        Assert.Equal(2, again.SampleCount);
        Assert.Equal(2, Directory.GetFiles(folder.File("images")).Length);
        Assert.True(DatasetManifest.Verify(folder.Path).IsValid);
        Assert.Equal(2, DatasetReader.Load(folder.Path).Samples.Count);
    }

    [Fact]
    public void Writer_refuses_a_dataset_folder_with_unlisted_files()
    {
        using var folder = new TempFolder();
        Fixtures.WriteDataset(folder.Path, Fixtures.ShapesRecords(1));
        folder.WriteText("images/extra.png", "x");

        var error = Assert.Throws<IOException>(() => new DatasetWriter(folder.Path, "x"));

        Assert.Contains("(images/extra.png)", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadRecords() => new()
    {
        { "not png", "not a PNG" },
        { "duplicate id", "was already added" },
        { "id with slash", "cannot name an image file" },
        { "empty answer", "Answer is empty" },
        { "image token in question", "leave it out" },
        { "image without png", "no PNG bytes were given" },
    };

    [Theory]
    [MemberData(nameof(BadRecords))]
    public void Writer_rejects_records_it_cannot_write_faithfully(string problem, string fragment)
    {
        using var folder = new TempFolder();
        using var writer = new DatasetWriter(folder.Path, "x");
        var good = Fixtures.ShapesRecords(1)[0];
        writer.Add(good);
        var bad = problem switch
        {
            "not png" => good with { Sample = good.Sample with { Id = "other" }, Png = Encoding.ASCII.GetBytes("GIF89a....") },
            "duplicate id" => good with { Sample = good.Sample with { Id = "SW-TEST-000000" } },
            "id with slash" => good with { Sample = good.Sample with { Id = "../escape" } },
            "empty answer" => good with { Sample = good.Sample with { Id = "other", Answer = " " } },
            "image token in question" => good with { Sample = good.Sample with { Id = "other", Question = "<image>\nHow many?" } },
            "image without png" => good with { Sample = good.Sample with { Id = "other", Image = "x.png" }, Png = ReadOnlyMemory<byte>.Empty },
            _ => throw new ArgumentOutOfRangeException(nameof(problem), problem, null),
        };

        var error = Assert.Throws<ArgumentException>(() => writer.Add(bad));

        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, writer.Count);
    }

    [Fact]
    public void Text_only_samples_have_no_image_and_no_image_token()
    {
        using var folder = new TempFolder();
        using (var writer = new DatasetWriter(folder.Path, "text"))
        {
            writer.Add(new DatasetRecord(new VqaSample("t-1", null, "What is two plus two?", "4", Family: "arithmetic"), ReadOnlyMemory<byte>.Empty, null));
            writer.Complete();
        }

        var record = Fixtures.Parse(folder.File("llava.json"))[0]!;
        Assert.Null(record["image"]);
        Assert.Empty(record["images"]!.AsArray());
        Assert.Equal("What is two plus two?", (string?)record["conversations"]![0]!["value"]);
        Assert.Null(Fixtures.Parse(folder.File("dataset_info.json"))["text"]!["columns"]!["images"]);
        var sample = Assert.Single(DatasetReader.Load(folder.Path).Samples);
        Assert.Null(sample.Image);
    }

    [Fact]
    public void Folder_without_manifest_is_incomplete_until_complete_is_called()
    {
        using var folder = new TempFolder();
        using (var writer = new DatasetWriter(folder.Path, "x"))
            writer.Add(Fixtures.ShapesRecords(1)[0]);

        Assert.False(File.Exists(folder.File("manifest.json")));
        var error = Assert.Throws<DatasetFormatException>(() => DatasetManifest.Read(folder.Path));
        Assert.Contains("the dataset was not completed", error.Message, StringComparison.Ordinal);
    }
}
