using System.Text.Json.Nodes;
using FailureSynth.Datasets.ShapesWorld;
using FailureSynth.World;
using FailureSynth.World.Questions;

namespace FailureSynth.Datasets.Tests;

/// <summary>ShapesWorld exported in VQA v2's and ScienceQA's official layouts reads back through our readers.</summary>
public sealed class OfficialLayoutExportTests
{
    private const int Count = 24;

    private static ShapesWorldExportResult Export(string folder, ShapesWorldFormat format, string? split = null, int threads = 1) =>
        ShapesWorldExporter.Export(new ShapesWorldExportRequest(
            "base-skewed", Count, Seed: 5, folder, ImageSize: 32,
            Form: format == ShapesWorldFormat.ScienceQa ? QuestionForm.Choice : QuestionForm.Open,
            Threads: threads, Format: format, Split: split));

    /// <summary>The same samples in the FailureSynth layout, to compare questions and answers against.</summary>
    private static IReadOnlyList<VqaSample> Reference(TempFolder folder, QuestionForm form)
    {
        var path = folder.File("reference-" + form);
        ShapesWorldExporter.Export(new ShapesWorldExportRequest("base-skewed", Count, Seed: 5, path, ImageSize: 32, Form: form, Threads: 1));
        return DatasetReader.Load(path).Samples;
    }

    [Fact]
    public void Vqav2_export_reads_back_with_ten_answers_answer_types_and_images()
    {
        using var folder = new TempFolder();
        var path = folder.File("vqa");
        var result = Export(path, ShapesWorldFormat.VqaV2);
        var expected = Reference(folder, QuestionForm.Open);

        Assert.True(File.Exists(Path.Combine(path, "OpenEnded_abstract_v002_val2015_questions.json")));
        Assert.True(File.Exists(Path.Combine(path, "abstract_v002_val2015_annotations.json")));
        Assert.Equal(Count, result.Manifest.SampleCount);
        foreach (var dataset in new[] { DatasetReader.Load(path), DatasetReader.Load(path, DatasetFormat.VqaV2, new DatasetReadOptions(RequireImages: true)) })
        {
            Assert.Equal("vqav2", dataset.Format);
            Assert.Empty(dataset.Warnings);
            Assert.Equal(Count, dataset.Samples.Count);
            for (int i = 0; i < Count; i++)
            {
                var sample = dataset.Samples[i];
                Assert.Equal((i * 10).ToString(System.Globalization.CultureInfo.InvariantCulture), sample.Id);
                Assert.Equal($"val2015/abstract_v002_val2015_{i:D12}.png", sample.Image);
                Assert.Equal(expected[i].Question, sample.Question);
                Assert.Equal(expected[i].Answer, sample.Answer);
                Assert.Equal(Enumerable.Repeat(expected[i].Answer, 10), sample.AllAnswers);
                Assert.Equal("val2015", sample.Split);
                Assert.Equal(ExpectedAnswerType(expected[i].Answer), sample.Family);
                Assert.True(File.Exists(Path.Combine(dataset.ImageRoot!, sample.Image!)), sample.Image);
                Assert.Equal(1.0, AnswerScoring.Score(sample, expected[i].Answer).Score);
            }
        }

        // The official annotation fields are all there, as VQA's own API reads them.
        var annotation = Fixtures.Parse(Path.Combine(path, "abstract_v002_val2015_annotations.json"))["annotations"]![0]!.AsObject();
        Assert.Equal(["question_id", "image_id", "question_type", "answer_type", "multiple_choice_answer", "answers"], annotation.Select(p => p.Key));
        Assert.Equal(["answer", "answer_confidence", "answer_id"], annotation["answers"]![0]!.AsObject().Select(p => p.Key));
        var questions = Fixtures.Parse(Path.Combine(path, "OpenEnded_abstract_v002_val2015_questions.json")).AsObject();
        Assert.Equal(["info", "task_type", "data_type", "data_subtype", "license", "questions"], questions.Select(p => p.Key));
        Assert.Equal("abstract_v002", questions["data_type"]!.GetValue<string>());
    }

    /// <summary>ShapesWorld answers are words or digits: yes/no, a count, or an attribute word.</summary>
    private static string ExpectedAnswerType(string answer) =>
        answer is "yes" or "no" ? "yes/no" : answer.All(char.IsAsciiDigit) ? "number" : "other";

    [Fact]
    public void Scienceqa_export_reads_back_as_choice_problems_with_images_in_the_default_layout()
    {
        using var folder = new TempFolder();
        var path = folder.File("sqa");
        Export(path, ShapesWorldFormat.ScienceQa, split: "val");
        var expected = Reference(folder, QuestionForm.Choice);

        foreach (var dataset in new[] { DatasetReader.Load(path), DatasetReader.Load(Path.Combine(path, "problems.json"), DatasetFormat.ScienceQa, new DatasetReadOptions(RequireImages: true)) })
        {
            Assert.Equal("scienceqa", dataset.Format);
            Assert.Equal(Count, dataset.Samples.Count);
            for (int i = 0; i < Count; i++)
            {
                var sample = dataset.Samples[i];
                Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), sample.Id);
                Assert.Equal($"val/{i}/image.png", sample.Image);
                Assert.True(File.Exists(Path.Combine(dataset.ImageRoot!, sample.Image!)), sample.Image);
                // The stem only: the lettered options live in "choices", as in ScienceQA.
                Assert.StartsWith(sample.Question + "\nA. " + expected[i].Choices![0] + "\nB. ", expected[i].Question, StringComparison.Ordinal);
                Assert.DoesNotContain("\nA. ", sample.Question);
                Assert.Equal(expected[i].Answer, sample.Answer);
                Assert.Equal(expected[i].Choices, sample.Choices);
                Assert.Equal(expected[i].AnswerText, sample.AnswerText);
                Assert.Equal("ShapesWorld", sample.Family);
                Assert.Equal([expected[i].Skills![0]], sample.Skills);
                Assert.Equal("val", sample.Split);
                Assert.Equal("exact-choice", AnswerScoring.Score(sample, expected[i].AnswerText!).Rule);
                Assert.Equal(1, AnswerScoring.Score(sample, expected[i].AnswerText!).Score);
            }
        }

        var splits = Fixtures.Parse(Path.Combine(path, "pid_splits.json")).AsObject();
        Assert.Equal(["train", "val", "test"], splits.Select(p => p.Key));
        Assert.Equal(Count, splits["val"]!.AsArray().Count);
        Assert.Empty(splits["test"]!.AsArray());
    }

    [Theory]
    [InlineData(ShapesWorldFormat.VqaV2, "OpenEnded_abstract_v002_val2015_questions.json", "10")]
    [InlineData(ShapesWorldFormat.ScienceQa, "problems.json", "1")]
    public void Provenance_beside_the_official_files_keys_scene_and_program_by_the_layout_id(ShapesWorldFormat format, string detect, string secondId)
    {
        using var folder = new TempFolder();
        var path = folder.File("out");
        Export(path, format);
        Assert.True(File.Exists(Path.Combine(path, detect)));

        // provenance.jsonl is a FailureSynth JSONL file whose images resolve from its own folder.
        var provenance = DatasetReader.Load(Path.Combine(path, "provenance.jsonl"), DatasetFormat.Jsonl);
        Assert.Equal(Count, provenance.Samples.Count);
        Assert.Equal(secondId, provenance.Samples[1].Id);
        var official = DatasetReader.Load(path);
        Assert.Equal(official.Samples.Select(s => s.Id), provenance.Samples.Select(s => s.Id));
        Assert.Equal(official.Samples.Select(s => s.Question), provenance.Samples.Select(s => s.Question));
        Assert.All(provenance.Samples, s => Assert.NotEmpty(s.Skills!));

        var line = JsonNode.Parse(File.ReadLines(Path.Combine(path, "provenance.jsonl")).Skip(1).First())!["provenance"]!;
        Assert.NotNull(line["scene"]);
        Assert.NotNull(line["program"]);
        Assert.Equal("sw-base-skewed-5-000001", line["sample_id"]!.GetValue<string>());

        // The manifest lists every file and still verifies.
        Assert.True(DatasetManifest.Verify(path).IsValid);
    }

    [Theory]
    [InlineData(ShapesWorldFormat.FailureSynth, QuestionForm.Open, "sw-base-skewed-5-000003")]
    [InlineData(ShapesWorldFormat.FailureSynth, QuestionForm.Choice, "sw-base-skewed-5-000003")]
    [InlineData(ShapesWorldFormat.VqaV2, QuestionForm.Open, "30")]
    [InlineData(ShapesWorldFormat.ScienceQa, QuestionForm.Choice, "3")]
    public void Provenance_gives_back_the_exact_world_samples_keyed_by_the_layout_id(ShapesWorldFormat format, QuestionForm form, string fourthId)
    {
        using var folder = new TempFolder();
        var path = folder.File("out");
        ShapesWorldExporter.Export(new ShapesWorldExportRequest("base-skewed", Count, Seed: 5, path, ImageSize: 32, Form: form, Threads: 1, Format: format));

        var samples = ShapesWorldProvenance.Load(path);

        Assert.Equal(Count, samples.Count);
        Assert.Equal(DatasetReader.Load(path).Samples.Select(s => s.Id), samples.Keys);
        var generator = new WorldGenerator(Profiles.Resolve("base-skewed"), form);
        Assert.Equal(WorldJson.Serialize(generator.Generate(5, 3)), WorldJson.Serialize(samples[fourthId]));
        for (int i = 0; i < Count; i++)
            Assert.Equal(WorldJson.Serialize(generator.Generate(5, i)), WorldJson.Serialize(samples.Values.ElementAt(i)));
    }

    [Fact]
    public void Provenance_line_without_its_program_is_refused_naming_line_and_field()
    {
        using var folder = new TempFolder();
        var path = folder.File("out");
        Export(path, ShapesWorldFormat.VqaV2);
        var file = Path.Combine(path, "provenance.jsonl");
        var lines = File.ReadAllLines(file);
        var second = JsonNode.Parse(lines[1])!;
        second["provenance"]!.AsObject().Remove("program");
        lines[1] = second.ToJsonString();
        File.WriteAllLines(file, lines);

        var error = Assert.Throws<DatasetFormatException>(() => ShapesWorldProvenance.Load(path));
        Assert.Contains("line 2", error.Message);
        Assert.Contains("provenance.program", error.Message);
        Assert.Contains("missing", error.Message);
        Assert.Contains("not found", Assert.Throws<DatasetFormatException>(() => ShapesWorldProvenance.Load(folder.File("none"))).Message);
    }

    [Theory]
    [InlineData(ShapesWorldFormat.VqaV2)]
    [InlineData(ShapesWorldFormat.ScienceQa)]
    public void Output_is_byte_identical_whatever_the_thread_count_and_replaces_an_earlier_export(ShapesWorldFormat format)
    {
        using var folder = new TempFolder();
        var one = folder.File("one");
        var two = folder.File("two");
        Export(one, format, threads: 1);
        Export(two, format, split: "dev", threads: 1);
        Export(two, format, threads: 2); // replaces the earlier export of another split

        string[] Files(string root) => [.. Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal)];
        Assert.Equal(Files(one), Files(two));
        foreach (var file in Files(one))
            Assert.True(File.ReadAllBytes(Path.Combine(one, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(two, file))), file);
    }

    [Theory]
    [InlineData(ShapesWorldFormat.VqaV2, QuestionForm.Choice, null, "--format vqav2 writes open-ended questions")]
    [InlineData(ShapesWorldFormat.ScienceQa, QuestionForm.Open, null, "--format scienceqa writes multiple-choice problems")]
    [InlineData(ShapesWorldFormat.FailureSynth, QuestionForm.Open, "val", "--split applies to --format vqav2 or scienceqa")]
    [InlineData(ShapesWorldFormat.VqaV2, QuestionForm.Open, "../val", "The --split \"../val\" cannot name files")]
    public void Request_refuses_a_form_or_split_the_layout_cannot_hold(ShapesWorldFormat format, QuestionForm form, string? split, string message)
    {
        var request = new ShapesWorldExportRequest("base-skewed", 2, 1, "/tmp/unused", Form: form, Format: format, Split: split);
        var error = Assert.Throws<ArgumentException>(request.Validate);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Writers_refuse_samples_their_layout_cannot_hold()
    {
        using var folder = new TempFolder();
        var records = Fixtures.ShapesRecords(2);
        using (var vqa = new VqaV2Writer(folder.File("vqa"), "val2015", "t"))
        {
            var textOnly = new DatasetRecord(records[0].Sample, ReadOnlyMemory<byte>.Empty);
            Assert.Contains("every VQA v2 question is about an image", Assert.Throws<ArgumentException>(() => vqa.Add(textOnly, 1, 10, "number", "count")).Message);
            Assert.Contains("answer_type \"counting\"", Assert.Throws<ArgumentException>(() => vqa.Add(records[0], 1, 10, "counting", "count")).Message);
            vqa.Add(records[0], 1, 10, "number", "count");
            Assert.Contains("question_id 10 was already added", Assert.Throws<ArgumentException>(() => vqa.Add(records[1], 2, 10, "other", "query")).Message);
        }

        using var sqa = new ScienceQaWriter(folder.File("sqa"), "test", "t");
        var info = new ScienceQaProblemInfo("ShapesWorld", "count", "count", "count");
        Assert.Contains("has 0 choices", Assert.Throws<ArgumentException>(() => sqa.Add(records[0], "1", info)).Message);
        sqa.Add(records[1], "2", info);
        Assert.Contains("pid \"2\" was already added", Assert.Throws<ArgumentException>(() => sqa.Add(records[1], "2", info)).Message);
    }
}
