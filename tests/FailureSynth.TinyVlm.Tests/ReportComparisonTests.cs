using System.Text.Json;
using FailureSynth.TinyVlm.Evaluation;

namespace FailureSynth.TinyVlm.Tests;

/// <summary>Question-by-question comparison of two evaluation reports, and reading a report back from its file.</summary>
public class ReportComparisonTests
{
    // Four questions: q1-q3 exercise "query/color=blue" (two steps: count the squares, then read the colour), q4 "relate/below".
    private static readonly ComparedQuestion[] Questions =
    [
        new("q1", ["query/color=blue"], ["1", "blue"]),
        new("q2", ["query/color=blue"], ["1", "blue"]),
        new("q3", ["query/color=blue"], ["2", "blue"]),
        new("q4", ["relate/below"], ["yes"]),
    ];

    private static EvaluatedAnswer Answer(string id, string expected, string predicted, params string[] steps) =>
        new(id, expected, predicted, 0.5, predicted == expected, steps);

    private static EvaluationReport Report(string model, params EvaluatedAnswer[] answers) =>
        new(model, "test", null, "reasoning", answers.Length, 0, null, new Dictionary<string, GroupAccuracy>(), new Dictionary<string, GroupAccuracy>(), [], 0, answers);

    private static readonly EvaluationReport Before = Report("before",
        Answer("q1", "blue", "blue", "1", "blue"),
        Answer("q2", "blue", "blue", "1", "blue"),
        Answer("q3", "blue", "cyan", "2", "cyan"),
        Answer("q4", "yes", "no", "no"));

    // q1 is lost at step 1 (two squares counted), q2 at step 2 (another object's colour), q3 and q4 are gained.
    private static readonly EvaluationReport After = Report("after",
        Answer("q1", "blue", "yellow", "2", "yellow"),
        Answer("q2", "blue", "yellow", "1", "yellow"),
        Answer("q3", "blue", "blue", "2", "blue"),
        Answer("q4", "yes", "yes", "yes"));

    [Fact]
    public void Lost_and_gained_answers_are_counted_per_skill_with_the_first_wrong_step()
    {
        var comparison = ReportComparison.Compare(Before, After, Questions);

        Assert.Equal(4, comparison.Questions);
        Assert.Equal(0.5, comparison.Before);
        Assert.Equal(0.5, comparison.After);
        Assert.Equal(2, comparison.Lost);
        Assert.Equal(2, comparison.Gained);

        // Ordered from the largest fall: blue went from 2 of 3 to 1 of 3 (-33.33 points), below from 0 of 1 to 1 of 1.
        Assert.Equal(["query/color=blue", "relate/below"], comparison.Skills.Select(s => s.Skill));
        var blue = comparison.Skills[0];
        Assert.Equal(3, blue.Count);
        Assert.Equal(0.666667, blue.Before);
        Assert.Equal(0.333333, blue.After);
        Assert.Equal(-33.33, blue.ChangePoints);
        Assert.Equal(2, blue.Lost);
        Assert.Equal(1, blue.Gained);
        Assert.Equal(new Dictionary<string, int> { ["1"] = 1, ["2"] = 1 }, blue.LostAtStep);
        Assert.Equal([new AnswerCount("yellow", 2)], blue.LostAnswers);
        Assert.Equal(["q1", "q2"], blue.LostIds);

        var below = comparison.Skills[1];
        Assert.Equal(100, below.ChangePoints);
        Assert.Equal(0, below.Lost);
        Assert.Equal(1, below.Gained);
        Assert.Empty(below.LostAtStep);
    }

    [Fact]
    public void A_lost_answer_with_every_step_right_is_put_on_the_final_composition()
    {
        var after = Report("after",
            Answer("q1", "blue", "cyan", "1", "blue"), // steps right, composed answer wrong
            Answer("q2", "blue", "blue", "1", "blue"),
            Answer("q3", "blue", "cyan", "2", "cyan"),
            Answer("q4", "yes", "no", "no"));

        var blue = ReportComparison.Compare(Before, after, Questions).Skills.Single(s => s.Skill == "query/color=blue");

        Assert.Equal(new Dictionary<string, int> { ["final"] = 1 }, blue.LostAtStep);
    }

    [Fact]
    public void Reports_of_other_questions_other_gold_answers_or_another_mode_are_refused_by_name()
    {
        var missing = Report("after", After.Answers.Take(3).ToArray());
        Assert.Contains("does not answer 1 question(s) of the test data (first: 'q4')",
            Assert.Throws<ArgumentException>(() => ReportComparison.Compare(Before, missing, Questions)).Message);

        var stranger = Report("after", [.. After.Answers, Answer("q9", "no", "no")]);
        Assert.Contains("answers question 'q9', which is not in the test data",
            Assert.Throws<ArgumentException>(() => ReportComparison.Compare(Before, stranger, Questions)).Message);

        var otherGold = Report("after", [Answer("q1", "red", "red", "1", "red"), .. After.Answers.Skip(1)]);
        Assert.Contains("Question 'q1' has gold answer 'blue' in the before report but 'red'",
            Assert.Throws<ArgumentException>(() => ReportComparison.Compare(Before, otherGold, Questions)).Message);

        var direct = After with { Mode = "direct" };
        Assert.Contains("different modes (reasoning before, direct after)",
            Assert.Throws<ArgumentException>(() => ReportComparison.Compare(Before, direct, Questions)).Message);

        var empty = Report("after");
        Assert.Contains("has no per-question answers",
            Assert.Throws<ArgumentException>(() => ReportComparison.Compare(Before, empty, Questions)).Message);
    }

    [Fact]
    public void A_report_file_round_trips_and_a_broken_one_is_refused_naming_the_file()
    {
        var folder = Directory.CreateTempSubdirectory("fs-compare-");
        try
        {
            var good = Path.Combine(folder.FullName, "after.json");
            File.WriteAllText(good, After.ToJson());
            var read = EvaluationReportFile.Read(good);
            Assert.Equal(After.Mode, read.Mode);
            Assert.Equal(After.Answers, read.Answers, (x, y) => x.Id == y.Id && x.Predicted == y.Predicted && x.Correct == y.Correct
                && x.StepAnswers!.SequenceEqual(y.StepAnswers!));

            var truncated = Path.Combine(folder.FullName, "truncated.json");
            File.WriteAllText(truncated, After.ToJson()[..40]);
            Assert.Contains("truncated.json' is not valid", Assert.Throws<InvalidDataException>(() => EvaluationReportFile.Read(truncated)).Message);

            var noId = Path.Combine(folder.FullName, "no-id.json");
            var node = System.Text.Json.Nodes.JsonNode.Parse(After.ToJson())!;
            node["answers"]![1]!.AsObject().Remove("id");
            File.WriteAllText(noId, node.ToJsonString());
            Assert.Contains("answers[1] needs 'id', 'expected' and 'predicted'", Assert.Throws<InvalidDataException>(() => EvaluationReportFile.Read(noId)).Message);

            var noAnswers = Path.Combine(folder.FullName, "no-answers.json");
            node = System.Text.Json.Nodes.JsonNode.Parse(After.ToJson())!;
            node.AsObject().Remove("answers");
            File.WriteAllText(noAnswers, node.ToJsonString());
            Assert.Contains("has no 'answers' list", Assert.Throws<InvalidDataException>(() => EvaluationReportFile.Read(noAnswers)).Message);

            Assert.Throws<FileNotFoundException>(() => EvaluationReportFile.Read(Path.Combine(folder.FullName, "absent.json")));

            // The comparison's own JSON names its fields in snake case.
            using var json = JsonDocument.Parse(ReportComparison.Compare(Before, After, Questions).ToJson());
            var skill = json.RootElement.GetProperty("skills")[0];
            foreach (var field in new[] { "skill", "change_points", "lost", "gained", "lost_at_step", "lost_answers", "lost_ids" })
                Assert.True(skill.TryGetProperty(field, out _), field);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
