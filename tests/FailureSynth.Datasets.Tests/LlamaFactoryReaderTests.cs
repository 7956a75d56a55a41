using System.Text.Json.Nodes;
using FailureSynth.Datasets;

namespace FailureSynth.Datasets.Tests;

/// <summary>LLaMA-Factory's alpaca and sharegpt files, as .json and .jsonl, with and without their dataset_info.json.</summary>
public sealed class LlamaFactoryReaderTests
{
    private static JsonObject Message(string role, string content) => new() { ["role"] = role, ["content"] = content };

    /// <summary>Sharegpt in the role/content style of LLaMA-Factory's multimodal demo: a system message, two pairs, one image.</summary>
    private static JsonArray ShareGpt() =>
    [
        new JsonObject
        {
            ["messages"] = new JsonArray(Message("system", "You are a helpful assistant."), Message("user", "<image>Who are they?"), Message("assistant", "Two players."),
                Message("user", "What are they doing?"), Message("assistant", "Celebrating.")),
            ["images"] = new JsonArray("mllm_demo_data/1.jpg"),
        },
        new JsonObject
        {
            ["messages"] = new JsonArray(Message("user", "What is 2 + 2?"), Message("assistant", "4")),
        },
    ];

    private static JsonArray Alpaca() =>
    [
        new JsonObject { ["instruction"] = "<image>Which shape is red?", ["input"] = "", ["output"] = "The circle.", ["images"] = new JsonArray("mllm_demo_data/1.jpg") },
        new JsonObject
        {
            ["instruction"] = "Add the numbers.", ["input"] = "3 and 4", ["output"] = "7",
            ["history"] = new JsonArray(new JsonArray("What is 1 + 1?", "2")),
        },
    ];

    private static JsonObject Entry(string file, string formatting, JsonObject columns, JsonObject? tags = null)
    {
        var entry = new JsonObject { ["file_name"] = file, ["formatting"] = formatting, ["columns"] = columns };
        if (tags is not null) entry["tags"] = tags;
        return entry;
    }

    private static JsonObject RoleContentTags() => new()
    {
        ["role_tag"] = "role", ["content_tag"] = "content", ["user_tag"] = "user", ["assistant_tag"] = "assistant",
    };

    private static void WriteImage(TempFolder folder)
    {
        Directory.CreateDirectory(folder.File("mllm_demo_data"));
        File.WriteAllBytes(folder.File("mllm_demo_data", "1.jpg"), Fixtures.TinyPng);
    }

    private static string WriteJsonl(TempFolder folder, string name, JsonArray records) =>
        folder.WriteText(name, string.Join("\n", records.Select(r => r!.ToJsonString())) + "\n");

    [Fact]
    public void Sharegpt_messages_with_images_are_read_through_dataset_info()
    {
        using var folder = new TempFolder();
        WriteImage(folder);
        folder.Write("mllm_demo.json", ShareGpt());
        var info = folder.Write("dataset_info.json", new JsonObject
        {
            ["mllm_demo"] = Entry("mllm_demo.json", "sharegpt", new JsonObject { ["messages"] = "messages", ["images"] = "images" }, RoleContentTags()),
        });

        var dataset = DatasetReader.Load(info);

        Assert.Equal("llamafactory-sharegpt", dataset.Format);
        Assert.Equal(folder.Path, dataset.ImageRoot);
        Assert.Equal(["record-0#1", "record-0#2", "record-1"], dataset.Samples.Select(s => s.Id));
        Assert.Equal(("Who are they?", "Two players.", "mllm_demo_data/1.jpg"), (dataset.Samples[0].Question, dataset.Samples[0].Answer, dataset.Samples[0].Image));
        Assert.Equal(("What are they doing?", "Celebrating.", "mllm_demo_data/1.jpg"), (dataset.Samples[1].Question, dataset.Samples[1].Answer, dataset.Samples[1].Image));
        Assert.Null(dataset.Samples[2].Image);
        Assert.All(dataset.Samples, s => Assert.Equal("llamafactory", s.Source));
        // The folder holding dataset_info.json is detected too.
        Assert.Equal(DatasetFormat.LlamaFactory, DatasetReader.Detect(folder.Path));
    }

    [Fact]
    public void Alpaca_with_mapped_columns_and_history_is_read_through_dataset_info()
    {
        using var folder = new TempFolder();
        WriteImage(folder);
        // Renamed columns, as dataset_info.json's "columns" allows.
        var records = new JsonArray(Alpaca().Select(r =>
        {
            var o = r!.AsObject();
            var renamed = new JsonObject();
            foreach (var (key, value) in o) renamed[key == "instruction" ? "q" : key == "output" ? "a" : key] = value?.DeepClone();
            return (JsonNode)renamed;
        }).ToArray());
        folder.Write("alpaca.json", records);
        var info = folder.Write("dataset_info.json", new JsonObject
        {
            ["demo"] = new JsonObject
            {
                ["file_name"] = "alpaca.json",
                ["columns"] = new JsonObject { ["prompt"] = "q", ["query"] = "input", ["response"] = "a", ["history"] = "history", ["images"] = "images" },
            },
        });

        var dataset = DatasetReader.Load(info);

        Assert.Equal("llamafactory-alpaca", dataset.Format);
        Assert.Equal(
            [("record-0", "Which shape is red?", "The circle."), ("record-1#1", "What is 1 + 1?", "2"), ("record-1#2", "Add the numbers.\n3 and 4", "7")],
            dataset.Samples.Select(s => (s.Id, s.Question, s.Answer)));
        Assert.Equal("mllm_demo_data/1.jpg", dataset.Samples[0].Image);
    }

    [Theory]
    [InlineData("sharegpt.json")]
    [InlineData("sharegpt.jsonl")]
    [InlineData("alpaca.json")]
    [InlineData("alpaca.jsonl")]
    public void Bare_files_are_detected_and_read_without_dataset_info(string name)
    {
        using var folder = new TempFolder();
        WriteImage(folder);
        var records = name.StartsWith("sharegpt", StringComparison.Ordinal) ? ShareGpt() : Alpaca();
        var path = name.EndsWith(".jsonl", StringComparison.Ordinal) ? WriteJsonl(folder, name, records) : folder.Write(name, records);

        Assert.Equal(DatasetFormat.LlamaFactory, DatasetReader.Detect(path));
        var dataset = DatasetReader.Load(path);

        Assert.Equal("llamafactory", dataset.Format);
        Assert.Equal(3, dataset.Samples.Count);
        Assert.Equal("mllm_demo_data/1.jpg", dataset.Samples[0].Image);
        Assert.Equal(name.EndsWith(".jsonl", StringComparison.Ordinal) ? "line-1" : "record-0", dataset.Samples[0].Id.Split('#')[0]);
    }

    [Fact]
    public void Llava_style_conversations_stay_llava()
    {
        using var folder = new TempFolder();
        var path = folder.Write("llava_instruct.json", Fixtures.Llava(folder));

        Assert.Equal(DatasetFormat.Llava, DatasetReader.Detect(path));
    }

    public static TheoryData<string, string, string?, string> Refusals() => new()
    {
        // case, message start, field, fragment
        { "token without image", "data.json (LLaMA-Factory sharegpt): record 1 (id \"record-1\")", "messages[0].content", "contains \"<image>\" but the record has no image" },
        { "image without token", "data.json (LLaMA-Factory sharegpt): record 0 (id \"record-0\")", "messages[1].content", "0 \"<image>\" tokens for 1 image" },
        { "two images", "data.json (LLaMA-Factory sharegpt): record 0 (id \"record-0\")", "images", "2 images in one record" },
        { "wrong role", "data.json (LLaMA-Factory sharegpt): record 1 (id \"record-1\")", "messages[1].role", "expected \"assistant\", found \"user\"" },
        { "tool turn", "data.json (LLaMA-Factory sharegpt): record 1 (id \"record-1\")", "messages[1].role", "tool-use turn" },
        { "unanswered", "data.json (LLaMA-Factory sharegpt): record 1 (id \"record-1\")", "messages[0]", "without an answer" },
        { "hub entry", "dataset_info.json (LLaMA-Factory dataset_info.json): entry 0 (name \"demo\")", "hf_hub_url", "not a local file" },
        { "ranking", "dataset_info.json (LLaMA-Factory dataset_info.json): entry 0 (name \"demo\")", "ranking", "preference dataset" },
        { "missing file", "dataset_info.json (LLaMA-Factory dataset_info.json): entry 0 (name \"demo\")", "file_name", "not found at" },
        { "unknown formatting", "dataset_info.json (LLaMA-Factory dataset_info.json): entry 0 (name \"demo\")", "formatting", "knows \"alpaca\" and \"sharegpt\"" },
        { "empty data", "data.json (LLaMA-Factory sharegpt)", null, "empty: the array has no records" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Broken_llama_factory_data_is_refused_naming_the_format_record_and_field(string corruption, string start, string? field, string fragment)
    {
        using var folder = new TempFolder();
        WriteImage(folder);
        var records = ShareGpt();
        var entry = Entry("data.json", "sharegpt", new JsonObject { ["messages"] = "messages", ["images"] = "images" }, RoleContentTags());
        switch (corruption)
        {
            case "token without image": records[1]!["messages"]![0]!["content"] = "<image>What is 2 + 2?"; break;
            case "image without token": records[0]!["messages"]![1]!["content"] = "Who are they?"; break;
            case "two images": records[0]!["images"] = new JsonArray("a.jpg", "b.jpg"); break;
            case "wrong role": records[1]!["messages"]![1]!["role"] = "user"; break;
            case "tool turn": records[1]!["messages"]![1]!["role"] = "function_call"; break;
            case "unanswered": records[1]!["messages"]!.AsArray().RemoveAt(1); break;
            case "hub entry": entry["hf_hub_url"] = "BUAADreamer/mllm_demo"; break;
            case "ranking": entry["ranking"] = true; break;
            case "missing file": entry["file_name"] = "nope.json"; break;
            case "unknown formatting": entry["formatting"] = "openai"; break;
            case "empty data": records = []; break;
            default: throw new ArgumentOutOfRangeException(nameof(corruption), corruption, null);
        }

        folder.Write("data.json", records);
        var info = folder.Write("dataset_info.json", new JsonObject { ["demo"] = entry });

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(info));

        Assert.StartsWith(start, error.Message, StringComparison.Ordinal);
        Assert.Equal(field, error.Field);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("LLaMA-Factory", error.Format, StringComparison.Ordinal);
    }

    [Fact]
    public void Dataset_written_by_our_writer_reads_back_through_its_dataset_info_as_the_same_samples()
    {
        using var folder = new TempFolder();
        var records = Fixtures.ShapesRecords(4).ToList();
        // A text-only sample too: its "images" list is empty and its question has no image token.
        records.Add(new DatasetRecord(new VqaSample("sw-test-text", null, "Is a square a rectangle?", "yes"), ReadOnlyMemory<byte>.Empty));
        Fixtures.WriteDataset(folder.Path, records);

        var written = DatasetReader.Load(folder.Path);
        var read = DatasetReader.Load(folder.File("dataset_info.json"));

        Assert.Equal("failuresynth", written.Format);
        Assert.Equal("llamafactory-sharegpt", read.Format);
        Assert.Equal(5, read.Samples.Count);
        Assert.Equal(
            written.Samples.Select(s => (s.Id, s.Image, s.Question, s.Answer)),
            read.Samples.Select(s => (s.Id, s.Image, s.Question, s.Answer)));
        Assert.Null(read.Samples[^1].Image);
        Assert.Equal(written.ImageRoot, read.ImageRoot);
    }
}
