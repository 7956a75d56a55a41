using FailureSynth.Datasets;

namespace FailureSynth.Datasets.Tests;

public sealed class JsonlReaderTests
{
    private const string ValidLines =
        """
        {"id":"q1","image":"img/a.png","question":"How many cubes?","answer":"3","family":"count","skills":["count"],"steps":[{"index":0,"question":"Which objects are cubes?","answer":"1, 2, 4"}],"split":"train"}

        {"id":"q2","question":"What color is the sphere?\nA. red\nB. blue","answer":"B","choices":["red","blue"],"answerText":"blue","split":"val","extra":{"ignored":true}}
        {"id":"q3","image":null,"question":"Is it raining?","answer":"no","allAnswers":["no","no",""]}
        """;

    [Fact]
    public void Jsonl_loads_every_field_and_skips_only_blank_lines()
    {
        using var folder = new TempFolder();
        folder.WriteText("img/a.png", "png");
        var path = folder.WriteText("samples.jsonl", ValidLines + "\n\n");

        var dataset = DatasetReader.Load(path);

        Assert.Equal("jsonl", dataset.Format);
        Assert.Equal(["q1", "q2", "q3"], dataset.Samples.Select(s => s.Id));
        var first = dataset.Samples[0];
        Assert.Equal("img/a.png", first.Image);
        Assert.Equal("count", first.Family);
        Assert.Equal(["count"], first.Skills!);
        Assert.Equal(new SampleStep(0, "Which objects are cubes?", "1, 2, 4"), Assert.Single(first.Steps!));
        Assert.Equal("train", first.Split);
        Assert.Equal("jsonl", first.Source);
        Assert.Equal(["red", "blue"], dataset.Samples[1].Choices!);
        Assert.Equal("blue", dataset.Samples[1].AnswerText);
        Assert.Null(dataset.Samples[2].Image);
        Assert.Equal(["no", "no", ""], dataset.Samples[2].AllAnswers!);
    }

    public static TheoryData<string, long, string?, string> Corruptions() => new()
    {
        // replacement for line 3, expected line, field, message fragment
        { "{\"id\":\"q2\",\"question\":\"What?\"", 3, null, "malformed JSON at line 3" },
        { "{\"id\":\"q2\",\"question\":\"What color?\"}", 3, "answer", "missing" },
        { "{\"id\":\"q2\",\"question\":\"What?\",\"answer\":2}", 3, "answer", "expected a string, found a number" },
        { "{\"id\":\"q1\",\"question\":\"What?\",\"answer\":\"x\"}", 3, "id", "already used on line 1" },
        { "{\"id\":\"q2\",\"question\":\"What?\",\"answer\":\"x\",\"steps\":[{\"index\":0,\"question\":\"Which?\"}]}", 3, "steps[0].answer", "missing" },
        { "{\"id\":\"q2\",\"question\":\"What?\",\"answer\":\"x\",\"skills\":\"count\"}", 3, "skills", "expected an array of strings, found a string" },
        { "{\"id\":\"q2\",\"question\":\"What?\",\"answer\":\"B\",\"choices\":[\"red\"],\"answerText\":\"blue\"}", 3, "answerText", "not one of the choices" },
        { "{\"id\":\"q2\",\"image\":\"img/missing.png\",\"question\":\"What?\",\"answer\":\"x\"}", 3, "image", "not found at" },
        { "[1, 2]", 3, null, "expected an object, found an array" },
        { "not json at all", 3, null, "malformed JSON at line 3" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Bad_jsonl_line_fails_with_its_line_number(string replacement, long line, string? field, string fragment)
    {
        using var folder = new TempFolder();
        folder.WriteText("img/a.png", "png");
        var lines = ValidLines.Split('\n');
        lines[2] = replacement;
        var path = folder.WriteText("samples.jsonl", string.Join('\n', lines));

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path));

        Assert.Equal(path, error.File);
        Assert.Equal(line, error.Line);
        Assert.Equal(field, error.Field);
        Assert.StartsWith("samples.jsonl (FailureSynth JSONL): line 3", error.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Line_record_message_names_line_and_id()
    {
        using var folder = new TempFolder();
        var path = folder.WriteText("samples.jsonl", "{\"id\":\"q1\",\"question\":\"Why?\",\"answer\":\"\"}\n");

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(path));

        Assert.Equal("line 1 (id \"q1\")", error.Record);
        Assert.Equal("samples.jsonl (FailureSynth JSONL): line 1 (id \"q1\"): field \"answer\": empty string; it must hold text", error.Message);
    }
}
