using System.Text.Json.Nodes;
using FailureSynth.Datasets;

namespace FailureSynth.Datasets.Tests;

public sealed class ScienceQaReaderTests
{
    [Fact]
    public void Official_problems_and_splits_load_as_choice_samples()
    {
        using var folder = new TempFolder();
        var problems = Fixtures.WriteScienceQa(folder);

        foreach (var path in new[] { folder.Path, problems, folder.File("pid_splits.json") })
        {
            var dataset = DatasetReader.Load(path);

            Assert.Equal("scienceqa", dataset.Format);
            Assert.Equal(["1", "2", "3", "4"], dataset.Samples.Select(s => s.Id));
            var first = dataset.Samples[0];
            Assert.Equal("B", first.Answer);
            Assert.Equal("apostrophe", first.AnswerText);
            Assert.Equal(["chiasmus", "apostrophe"], first.Choices!);
            Assert.Null(first.Image);
            Assert.Null(first.Context);
            Assert.Equal("train", first.Split);
            Assert.Equal("language science", first.Family);
            Assert.Equal("scienceqa", first.Source);
            Assert.Equal(["Classify the figure of speech: anaphora, antithesis, apostrophe, assonance, chiasmus, understatement"], first.Skills!);
            Assert.Equal("val", dataset.Samples[1].Split);
            Assert.Equal("future tense", dataset.Samples[1].AnswerText);
            Assert.Equal("A", dataset.Samples[2].Answer);
            Assert.Equal("train/3/image.png", dataset.Samples[2].Image);
            Assert.Equal("test/4/image.png", dataset.Samples[3].Image);
            Assert.StartsWith("The passage below describes an experiment.", dataset.Samples[3].Context, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string, bool, string, string, string> Corruptions() => new()
    {
        // corruption, in pid_splits.json?, record id, field, message fragment
        { "answer out of range", false, "2", "answer", "index 3 is outside the 3 choices (valid: 0 to 2)" },
        { "negative answer", false, "1", "answer", "index -1 is outside the 2 choices" },
        { "answer is text", false, "3", "answer", "expected an integer, found a string" },
        { "choices not a list", false, "1", "choices", "expected an array, found a string" },
        { "choice is a number", false, "4", "choices[1]", "expected a string, found a number" },
        { "question missing", false, "3", "question", "missing" },
        { "image is a number", false, "3", "image", "expected a string, found a number" },
        { "split disagrees", false, "2", "split", "\"train\" but pid_splits.json lists the problem under \"val\"" },
        { "split not listed", false, "4", "split", "\"test\" but pid_splits.json does not list the problem under it" },
        { "unknown split", false, "4", "split", "\"dev\" is not a list in pid_splits.json" },
        { "pid not a problem", true, "99", "train[1]", "pid \"99\" is not a problem in problems.json" },
        { "pid listed twice", true, "2", "minival[1]", "listed twice" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Broken_scienceqa_copy_fails_at_the_precise_problem_and_field(string corruption, bool inSplits, string pid, string field, string fragment)
    {
        using var folder = new TempFolder();
        var problems = Fixtures.ScienceQaProblems();
        var splits = Fixtures.ScienceQaSplits();
        switch (corruption)
        {
            case "answer out of range": problems["2"]!["answer"] = 3; break;
            case "negative answer": problems["1"]!["answer"] = -1; break;
            case "answer is text": problems["3"]!["answer"] = "A"; break;
            case "choices not a list": problems["1"]!["choices"] = "chiasmus, apostrophe"; break;
            case "choice is a number": problems["4"]!["choices"]![1] = 45; break;
            case "question missing": problems["3"]!.AsObject().Remove("question"); break;
            case "image is a number": problems["3"]!["image"] = 1; break;
            case "split disagrees": problems["2"]!["split"] = "train"; break;
            case "split not listed": splits["test"] = new JsonArray(); break;
            case "unknown split":
                problems["4"]!["split"] = "dev";
                splits["test"] = new JsonArray();
                break;
            case "pid not a problem": splits["train"] = new JsonArray("1", "99", "3"); break;
            case "pid listed twice": splits["minival"] = new JsonArray("2", "2"); break;
            default: throw new ArgumentOutOfRangeException(nameof(corruption), corruption, null);
        }

        var problemsPath = Fixtures.WriteScienceQa(folder, problems, splits);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(folder.Path));

        Assert.Equal(inSplits ? folder.File("pid_splits.json") : problemsPath, error.File);
        Assert.Equal(pid, error.RecordId);
        Assert.Equal(field, error.Field);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Out_of_range_answer_message_reads_naturally()
    {
        using var folder = new TempFolder();
        var problems = Fixtures.ScienceQaProblems();
        problems["2"]!["answer"] = 3;
        Fixtures.WriteScienceQa(folder, problems);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(folder.Path));

        Assert.Equal("problem (pid \"2\")", error.Record);
        Assert.Equal(
            "problems.json (ScienceQA): problem (pid \"2\"): field \"answer\": index 3 is outside the 3 choices (valid: 0 to 2); it must point at the correct choice",
            error.Message);
    }

    [Fact]
    public void Problems_without_pid_splits_are_refused_with_advice()
    {
        using var folder = new TempFolder();
        var problems = folder.Write("problems.json", Fixtures.ScienceQaProblems());

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(problems));

        Assert.Equal(folder.File("pid_splits.json"), error.File);
        Assert.Contains("ScienceQA needs pid_splits.json", error.Message, StringComparison.Ordinal);
    }
}
