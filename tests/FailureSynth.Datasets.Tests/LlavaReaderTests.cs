using System.Text.Json.Nodes;
using FailureSynth.Datasets;

namespace FailureSynth.Datasets.Tests;

public sealed class LlavaReaderTests
{
    [Fact]
    public void Llava_file_loads_one_sample_per_human_gpt_pair()
    {
        using var folder = new TempFolder();
        var path = folder.Write("llava_instruct.json", Fixtures.Llava(folder));

        var dataset = DatasetReader.Load(path);

        Assert.Equal("llava", dataset.Format);
        Assert.Equal(folder.Path, dataset.ImageRoot);
        Assert.Equal(["000000033471", "000000052846#1", "000000052846#2", "i6IyJda_0"], dataset.Samples.Select(s => s.Id));
        var first = dataset.Samples[0];
        Assert.Equal("coco/train2017/000000033471.jpg", first.Image);
        Assert.Equal("What are the colors of the bus in the image?", first.Question);
        Assert.Equal("The bus in the image is white and red.", first.Answer);
        Assert.Equal("llava", first.Source);
        Assert.Null(first.Choices);
        Assert.Equal("Where is the cat positioned in the image?", dataset.Samples[1].Question);
        Assert.Equal("What is the cat doing?", dataset.Samples[2].Question);
        Assert.Equal("Sleeping.", dataset.Samples[2].Answer);
        Assert.Equal("coco/train2017/000000052846.jpg", dataset.Samples[2].Image);
        Assert.Null(dataset.Samples[3].Image);
        Assert.Equal(2, dataset.Warnings.Count);
        Assert.Contains(dataset.Warnings, w => w.Contains("1 of 3 records have no image", StringComparison.Ordinal));
    }

    [Fact]
    public void Llama_factory_images_list_is_read_as_the_image()
    {
        using var folder = new TempFolder();
        var records = Fixtures.Llava(folder);
        var record = records[0]!.AsObject();
        record.Remove("image");
        record["images"] = new JsonArray("coco/train2017/000000033471.jpg");
        var path = folder.Write("llava.json", records);

        var dataset = DatasetReader.LoadLlava(path);

        Assert.Equal("coco/train2017/000000033471.jpg", dataset.Samples[0].Image);
    }

    [Fact]
    public void Wrong_type_message_names_file_record_id_and_field()
    {
        using var folder = new TempFolder();
        var records = Fixtures.Llava(folder);
        records[1]!["conversations"]![1]!["value"] = 17;
        var path = folder.Write("llava.json", records);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path));

        Assert.Equal(path, error.File);
        Assert.Equal("record 1 (id \"000000052846\")", error.Record);
        Assert.Equal(1, error.RecordIndex);
        Assert.Equal("000000052846", error.RecordId);
        Assert.Equal("conversations[1].value", error.Field);
        Assert.Equal("llava.json (LLaVA JSON): record 1 (id \"000000052846\"): field \"conversations[1].value\": expected a string, found a number", error.Message);
    }

    public static TheoryData<string, int?, string?, string> Corruptions() => new()
    {
        { "missing conversations", 0, "conversations", "missing" },
        { "missing image token", 0, "conversations[0].value", "no human turn contains \"<image>\"" },
        { "image token without image", 2, "conversations[0].value", "has no \"image\"" },
        { "duplicate id", 2, "id", "already used by record 0" },
        { "missing image file", 1, "image", "not found at" },
        { "two gpt turns first", 0, "conversations[1].from", "expected \"human\", found \"gpt\"" },
        { "unanswered human turn", 1, "conversations[2]", "without a gpt reply" },
        { "empty answer", 2, "conversations[1].value", "empty string" },
        { "two images", 0, "images", "2 images in one record" },
        { "id is an object", 1, "id", "expected a string, found an object" },
        { "record is a string", 2, null, "expected an object, found a string" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Broken_llava_copy_fails_at_the_precise_record_and_field(string corruption, int? record, string? field, string fragment)
    {
        using var folder = new TempFolder();
        var records = Fixtures.Llava(folder);
        switch (corruption)
        {
            case "missing conversations": records[0]!.AsObject().Remove("conversations"); break;
            case "missing image token": records[0]!["conversations"]![0]!["value"] = "What are the colors of the bus?"; break;
            case "image token without image": records[2]!["conversations"]![0]!["value"] = "<image>\nWhat is this?"; break;
            case "duplicate id": records[2]!["id"] = "000000033471"; break;
            case "missing image file": File.Delete(folder.File("coco", "train2017", "000000052846.jpg")); break;
            case "two gpt turns first": records[0]!["conversations"]![0]!["from"] = "gpt"; break;
            case "unanswered human turn": records[1]!["conversations"]!.AsArray().RemoveAt(3); break;
            case "empty answer": records[2]!["conversations"]![1]!["value"] = "  "; break;
            case "two images": records[0]!["images"] = new JsonArray("a.jpg", "b.jpg"); break;
            case "id is an object": records[1]!["id"] = new JsonObject(); break;
            case "record is a string": records[2] = "not a record"; break;
            default: throw new ArgumentOutOfRangeException(nameof(corruption), corruption, null);
        }

        var path = folder.Write("llava.json", records);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path));

        Assert.Equal(path, error.File);
        Assert.Equal(record, error.RecordIndex);
        Assert.Equal(field, error.Field);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("llava.json (LLaVA JSON): record " + record, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_names_file_and_line()
    {
        using var folder = new TempFolder();
        var path = folder.WriteText("llava.json", "[\n  {\"id\": \"a\",\n   \"conversations\": [}\n]\n");

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path));

        Assert.Equal(path, error.File);
        Assert.Equal(3, error.Line);
        Assert.Null(error.Record);
        Assert.Null(error.Field);
        // '}' is the 22nd byte of line 3, counting from one as editors do.
        Assert.Equal(
            "llava.json (LLaVA JSON): malformed JSON at line 3, byte 22: a value was expected (found '}'). Fix the syntax there (a truncated download or a hand edit usually causes this).",
            error.Message);
    }

    [Fact]
    public void Top_level_object_is_not_llava()
    {
        using var folder = new TempFolder();
        var path = folder.Write("data.json", new JsonObject { ["id"] = "a" });

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.LoadLlava(path));

        Assert.Null(error.Record);
        Assert.Contains("expected a top-level array of LLaVA records, found an object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_images_are_allowed_when_the_caller_says_so()
    {
        using var folder = new TempFolder();
        var records = Fixtures.Llava(folder);
        var path = folder.Write("llava.json", records);
        File.Delete(folder.File("coco", "train2017", "000000052846.jpg"));

        var dataset = DatasetReader.LoadLlava(path, new DatasetReadOptions(RequireImages: false));

        Assert.Equal(4, dataset.Samples.Count);
    }

    [Fact]
    public void Invalid_utf8_names_the_file()
    {
        using var folder = new TempFolder();
        var path = folder.File("llava.json");
        var bytes = System.Text.Encoding.UTF8.GetBytes("[{\"id\": \"a\", \"conversations\": [{\"from\": \"human\", \"value\": \"Q\"}, {\"from\": \"gpt\", \"value\": \"X\"}]}]").ToList();
        bytes[bytes.LastIndexOf((byte)'X')] = 0xFF;
        File.WriteAllBytes(path, bytes.ToArray());

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path));

        Assert.Equal(path, error.File);
        Assert.Equal(1, error.Line);
        Assert.Null(error.Field);
        Assert.Contains("not valid UTF-8 at line 1, byte", error.Message, StringComparison.Ordinal);
    }
}
