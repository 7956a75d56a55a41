using System.Text;
using System.Text.Json.Nodes;
using FailureSynth.Datasets;

namespace FailureSynth.Datasets.Tests;

/// <summary>
/// The reading problems found on real published files (issue 41), one test each. What is accepted follows each
/// format's reference code: LLaVA's training code (json.load, reads only "image" and "conversations", drops a leading
/// non-human turn, moves the image token of any human turn to its front), the VQA v2 and ScienceQA releases' layouts.
/// Each comment says what the reader did before.
/// </summary>
public sealed class RealFileReadingTests
{
    private static JsonObject Turn(string from, string value) => new() { ["from"] = from, ["value"] = value };

    private static string WriteLlava(TempFolder folder, params JsonObject[] records)
    {
        Directory.CreateDirectory(folder.File("img"));
        File.WriteAllBytes(folder.File("img", "a.png"), Fixtures.TinyPng);
        return folder.Write("llava.json", new JsonArray(records));
    }

    [Fact]
    public void Llava_record_without_id_is_read_because_llava_never_reads_it()
    {
        // Before: refused with 'field "id": missing; add this required field'.
        using var folder = new TempFolder();
        var path = WriteLlava(folder,
            new JsonObject { ["image"] = "img/a.png", ["conversations"] = new JsonArray(Turn("human", "<image>\nWhat color?"), Turn("gpt", "Red.")) },
            new JsonObject { ["id"] = "b", ["conversations"] = new JsonArray(Turn("human", "Why?"), Turn("gpt", "Because.")) });

        var dataset = DatasetReader.Load(path);

        Assert.Equal(["record-0", "b"], dataset.Samples.Select(s => s.Id));
        Assert.Contains(dataset.Warnings, w => w.Contains("1 of 2 records have no \"id\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Llava_image_token_in_a_later_human_turn_is_read()
    {
        // Before: refused with 'the first human turn must contain "<image>"'.
        using var folder = new TempFolder();
        var path = WriteLlava(folder, new JsonObject
        {
            ["id"] = "a",
            ["image"] = "img/a.png",
            ["conversations"] = new JsonArray(Turn("human", "Hello, can you help?"), Turn("gpt", "Yes."), Turn("human", "What shape is this?\n<image>"), Turn("gpt", "A circle.")),
        });

        var dataset = DatasetReader.Load(path);

        Assert.Equal(["Hello, can you help?", "What shape is this?"], dataset.Samples.Select(s => s.Question));
        Assert.All(dataset.Samples, s => Assert.Equal("img/a.png", s.Image));
    }

    [Fact]
    public void Llava_image_token_in_two_human_turns_is_refused_at_the_second()
    {
        // LLaVA would make two image slots for one image; the message names the second turn.
        using var folder = new TempFolder();
        var path = WriteLlava(folder, new JsonObject
        {
            ["id"] = "a",
            ["image"] = "img/a.png",
            ["conversations"] = new JsonArray(Turn("human", "<image>\nA?"), Turn("gpt", "x"), Turn("human", "<image>\nB?"), Turn("gpt", "y")),
        });

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path));

        Assert.Equal("conversations[2].value", error.Field);
        Assert.Contains("a second human turn with \"<image>\" (the first is conversations[0])", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Llava_leading_gpt_turn_is_dropped_as_llava_training_drops_it()
    {
        // Before: refused with 'field "conversations[0].from": expected "human", found "gpt"'.
        using var folder = new TempFolder();
        var path = WriteLlava(folder, new JsonObject
        {
            ["id"] = "a",
            ["image"] = "img/a.png",
            ["conversations"] = new JsonArray(Turn("gpt", "Welcome."), Turn("human", "<image>\nHow many?"), Turn("gpt", "Two.")),
        });

        var dataset = DatasetReader.Load(path);

        var sample = Assert.Single(dataset.Samples);
        Assert.Equal(("a", "How many?", "Two."), (sample.Id, sample.Question, sample.Answer));
        Assert.Contains(dataset.Warnings, w => w.Contains("1 records start with a gpt turn", StringComparison.Ordinal));
    }

    [Fact]
    public void Llava_odd_turn_count_blames_the_turn_that_breaks_alternation()
    {
        // Before: human, gpt, gpt was blamed on conversations[2] as "a human turn without a gpt reply".
        using var folder = new TempFolder();
        var path = WriteLlava(folder, new JsonObject
        {
            ["id"] = "a",
            ["conversations"] = new JsonArray(Turn("human", "Q?"), Turn("gpt", "A."), Turn("gpt", "More.")),
        });

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path));

        Assert.Equal("conversations[2].from", error.Field);
        Assert.Contains("expected \"human\", found \"gpt\"", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("without a gpt reply", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> UnusedFieldFormats() => ["llava", "vqav2", "scienceqa"];

    [Theory]
    [MemberData(nameof(UnusedFieldFormats))]
    public void Invalid_utf8_in_a_field_nobody_reads_refuses_the_file_as_json_load_does(string format)
    {
        // Before: the file passed, because only the fields the reader decodes were checked.
        using var folder = new TempFolder();
        string path;
        switch (format)
        {
            case "llava":
                path = WriteLlava(folder, new JsonObject { ["id"] = "a", ["note"] = "BAD", ["conversations"] = new JsonArray(Turn("human", "Q?"), Turn("gpt", "A.")) });
                break;
            case "vqav2":
                var questions = Fixtures.VqaQuestions();
                questions["info"]!["description"] = "BAD";
                path = Fixtures.WriteVqa(folder, questions).Questions;
                break;
            default:
                var problems = Fixtures.ScienceQaProblems();
                problems["1"]!["note"] = "BAD";
                Fixtures.WriteScienceQa(folder, problems);
                path = folder.File("problems.json");
                break;
        }

        var bytes = File.ReadAllBytes(path);
        var at = bytes.AsSpan().IndexOf("BAD"u8);
        bytes[at] = 0xFF;
        File.WriteAllBytes(path, bytes);
        var line = 1 + bytes.AsSpan(0, at).Count((byte)'\n');

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path));

        Assert.Equal(path, error.File);
        Assert.Equal(line, error.Line);
        Assert.Contains($"not valid UTF-8 at line {line}, byte", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_in_jsonl_is_reported_on_its_own_line()
    {
        // Before: the decoder read ahead, so the bad byte on line 3 was reported as line 1.
        using var folder = new TempFolder();
        var text = "{\"id\":\"q1\",\"question\":\"A?\",\"answer\":\"x\"}\n{\"id\":\"q2\",\"question\":\"B?\",\"answer\":\"y\"}\n{\"id\":\"q3\",\"question\":\"C?\",\"answer\":\"BAD\"}\n";
        var bytes = Encoding.UTF8.GetBytes(text);
        bytes[text.IndexOf("BAD", StringComparison.Ordinal)] = 0xC3;
        var path = folder.File("samples.jsonl");
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path));

        Assert.Equal(3, error.Line);
        Assert.Equal("line 3", error.Record);
        Assert.StartsWith("samples.jsonl (FailureSynth JSONL): line 3: not valid UTF-8 at line 3, byte 38", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> MalformedJson() => new()
    {
        { "[{\"id\": \"a\",}]", "trailing comma" },
        { "[{\"id\": \"a\"} // note\n]", "no comments" },
        { "[{\"id\": \"a\"", "the file ends before the JSON does" },
        { "[\"a\u0001b\"]", "a control character inside a string" },
        { "[{\"id\" \"a\"}]", "a ':' is missing after a property name" },
        { "[] []", "more text after the end of the JSON value" },
    };

    [Theory]
    [MemberData(nameof(MalformedJson))]
    public void Malformed_json_is_explained_in_plain_words_without_parser_wording(string text, string explanation)
    {
        // Before: the parser's own text, e.g. "... Change the reader options." or "... while isFinalBlock is true".
        using var folder = new TempFolder();
        var path = folder.WriteText("llava.json", text);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path, DatasetFormat.Llava));

        Assert.StartsWith("llava.json (LLaVA JSON): malformed JSON at line 1, byte ", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains(explanation, StringComparison.Ordinal), error.Message);
        foreach (var wording in new[] { "reader options", "isFinalBlock", "JsonReaderOptions", "LineNumber", "BytePositionInLine", "payload" })
            Assert.DoesNotContain(wording, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("data.json", "")]
    [InlineData("data.jsonl", "\n  \n")]
    [InlineData("problems.json", "")]
    public void Empty_file_is_called_empty(string name, string content)
    {
        // Before: "cannot tell the dataset format of this file".
        using var folder = new TempFolder();
        var path = folder.WriteText(name, content);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path));

        Assert.Contains(": empty", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot tell", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_file_of_a_named_format_is_called_empty_with_the_format()
    {
        using var folder = new TempFolder();
        var path = folder.WriteText("llava.json", "");

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path, DatasetFormat.Llava));

        Assert.Equal("llava.json (LLaVA JSON): empty (0 bytes); the download or copy is incomplete, or this is the wrong file", error.Message);
    }

    [Fact]
    public void Vqa_file_without_its_partner_says_what_the_one_path_command_can_do()
    {
        // Before: "... or give both files explicitly", which `dataset inspect PATH` cannot.
        using var folder = new TempFolder();
        var (questions, annotations) = Fixtures.WriteVqa(folder);
        File.Delete(annotations);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(questions));

        Assert.DoesNotContain("both files", error.Message, StringComparison.Ordinal);
        Assert.Contains("(VQA v2)", error.Message, StringComparison.Ordinal);
        Assert.Contains("put the annotations file of the same split next to it", error.Message, StringComparison.Ordinal);
        Assert.Contains("v2_mscoco_<split>_annotations.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Image_folder_that_does_not_exist_is_refused_with_its_path()
    {
        // Before: accepted silently; VQA v2 and ScienceQA then only counted every image as missing.
        using var folder = new TempFolder();
        var (questions, _) = Fixtures.WriteVqa(folder);
        var nowhere = folder.File("no-such-images");

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(questions, options: new DatasetReadOptions(ImageRoot: nowhere)));

        Assert.Equal(nowhere, error.File);
        Assert.Equal($"no-such-images (VQA v2): the image folder given, {nowhere}, does not exist; check the path, or leave it out to use the folder beside the dataset", error.Message);
    }

    [Fact]
    public void Scienceqa_images_in_the_official_layout_are_found_without_an_image_folder()
    {
        // Before: images/{split}/{pid}/image.png was looked for at {split}/{pid}/image.png, so both images were missing.
        using var folder = new TempFolder();
        Fixtures.WriteScienceQa(folder);
        foreach (var image in new[] { "train/3/image.png", "test/4/image.png" })
        {
            var full = folder.File(["images", .. image.Split('/')]);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, Fixtures.TinyPng);
        }

        var summary = DatasetInspector.Inspect(folder.Path);

        Assert.Equal(folder.File("images"), summary.ImageRoot);
        Assert.Equal(2, summary.ImagesReferenced);
        Assert.Equal(0, summary.ImagesMissing);
    }

    [Fact]
    public void Every_format_is_named_in_its_refusals()
    {
        // Before: messages named the file only ("problems.json: ..."), never the format it was read as.
        using var folder = new TempFolder();
        var problems = Fixtures.ScienceQaProblems();
        problems["2"]!["answer"] = 9;
        Fixtures.WriteScienceQa(folder, problems);
        var jsonl = folder.WriteText("s.jsonl", "{\"id\":\"q\",\"question\":\"Q?\"}\n");
        using var other = new TempFolder();
        var llava = WriteLlava(other, new JsonObject { ["id"] = "a", ["conversations"] = new JsonArray(Turn("human", "Q?")) });

        Assert.StartsWith("problems.json (ScienceQA): problem (pid \"2\")", Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(folder.Path)).Message, StringComparison.Ordinal);
        Assert.StartsWith("s.jsonl (FailureSynth JSONL): line 1 (id \"q\")", Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(jsonl)).Message, StringComparison.Ordinal);
        Assert.StartsWith("llava.json (LLaVA JSON): record 0 (id \"a\")", Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(llava)).Message, StringComparison.Ordinal);
    }
}
