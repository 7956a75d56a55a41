using System.Text.Json.Nodes;
using FailureSynth.Datasets.Tests;

namespace FailureSynth.Cli.Tests;

/// <summary>`failuresynth student compare` on a generated dataset and two evaluation report files.</summary>
public class StudentCompareTests
{
    /// <summary>
    /// A report in the `student eval` format over every sample of <paramref name="samples"/>: right where
    /// <paramref name="right"/> says so, otherwise "wrong" as the answer and as the first step's answer.
    /// </summary>
    private static string ReportJson(string model, JsonArray samples, Func<int, bool> right)
    {
        var answers = new JsonArray();
        for (var i = 0; i < samples.Count; i++)
        {
            var sample = samples[i]!;
            var gold = (string)sample["answer"]!;
            var steps = sample["steps"]!.AsArray().Select(s => (string)s!["answer"]!).ToArray();
            if (!right(i) && steps.Length > 0) steps[0] = "wrong";
            answers.Add(new JsonObject
            {
                ["id"] = (string)sample["id"]!,
                ["expected"] = gold,
                ["predicted"] = right(i) ? gold : "wrong",
                ["probability"] = 0.5,
                ["correct"] = right(i),
                ["step_answers"] = new JsonArray([.. steps.Select(s => (JsonNode)s)]),
            });
        }

        return new JsonObject
        {
            ["model"] = model, ["data"] = "test", ["mode"] = "reasoning", ["samples"] = samples.Count, ["overall_accuracy"] = 0,
            ["per_skill"] = new JsonObject(), ["per_family"] = new JsonObject(), ["confusions"] = new JsonArray(), ["elapsed_seconds"] = 0,
            ["answers"] = answers,
        }.ToJsonString();
    }

    /// <summary>Generates a balanced test split of <paramref name="count"/> samples in the folder; returns its path and its provenance rows.</summary>
    private static (string Data, JsonArray Samples) Generate(TempFolder folder, int count)
    {
        var data = Path.Combine(folder.Path, "test");
        (int code, string output) = CliRunner.Run("world", "generate", "--profile", "balanced", "--count", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", "3", "--out", data);
        Assert.True(code == 0, output);
        return (data, JsonNode.Parse("[" + string.Join(",", File.ReadAllLines(Path.Combine(data, "provenance.jsonl"))) + "]")!.AsArray());
    }

    [Fact]
    public void Compare_names_the_skills_that_fell_with_their_lost_answers_and_writes_json()
    {
        using var folder = new TempFolder();
        var (data, samples) = Generate(folder, 40);

        // Before: every answer right. After: the first sample's answer and first step are wrong, the rest right.
        File.WriteAllText(folder.File("before.json"), ReportJson("before", samples, _ => true));
        File.WriteAllText(folder.File("after.json"), ReportJson("after", samples, i => i != 0));
        (int code, string output) = CliRunner.Run("student", "compare", "--before", folder.File("before.json"), "--after", folder.File("after.json"),
            "--data", data, "--out", folder.File("compare.json"));
        Assert.True(code == 0, output);

        Assert.Contains("40 questions: 100.0 % -> 97.5 % (1 lost, 0 gained)", output);
        var lostSkills = samples[0]!["skills"]!.AsArray().Select(s => (string)s!).ToList();
        foreach (var skill in lostSkills)
        {
            Assert.Contains($"  {skill} (", output);
            Assert.Contains("lost 1, gained 0; first wrong step of the lost: 1: 1; answered instead: wrong (1)", output);
        }

        var json = JsonNode.Parse(File.ReadAllText(folder.File("compare.json")))!;
        Assert.Equal(1, (int)json["lost"]!);
        var worst = json["skills"]![0]!;
        Assert.Contains((string)worst["skill"]!, lostSkills);
        Assert.Equal((string)samples[0]!["id"]!, (string)worst["lost_ids"]![0]!);
    }

    [Fact]
    public void Compare_refuses_reports_of_other_data_or_a_bad_threshold_with_one_clear_line()
    {
        using var folder = new TempFolder();
        var (data, samples) = Generate(folder, 10);
        File.WriteAllText(folder.File("before.json"), ReportJson("before", samples, _ => true));
        var fewer = new JsonArray([.. samples.Take(9).Select(s => s!.DeepClone())]);
        File.WriteAllText(folder.File("after.json"), ReportJson("after", fewer, _ => true));

        (int code, string output) = CliRunner.Run("student", "compare", "--before", folder.File("before.json"), "--after", folder.File("after.json"), "--data", data);
        Assert.Equal(1, code);
        Assert.Contains("error: The after report does not answer 1 question(s) of the test data", output);

        (code, output) = CliRunner.Run("student", "compare", "--before", folder.File("before.json"), "--after", folder.File("before.json"), "--data", data,
            "--threshold", "-1");
        Assert.Equal(1, code);
        Assert.Contains("--threshold must be a number of points >= 0 (got -1)", output);

        (code, output) = CliRunner.Run("student", "compare", "--before", folder.File("absent.json"), "--after", folder.File("before.json"), "--data", data);
        Assert.Equal(1, code);
        Assert.Contains("absent.json' does not exist", output);
    }
}
