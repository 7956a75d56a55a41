using System.Text.Json;
using FailureSynth.TinyVlm.Evaluation;
using FailureSynth.TinyVlm.Inference;

namespace FailureSynth.TinyVlm.Tests;

/// <summary>The evaluation report: accuracies per skill and family, confusions, JSON field names.</summary>
public class EvaluationTests
{
    [Fact]
    public void Report_counts_accuracy_per_skill_family_and_confusion()
    {
        var examples = StudentFixtures.Examples(10);
        // The student is right on even examples and says "purple" on odd ones.
        var answers = examples.Select((e, i) => new StudentAnswer(i % 2 == 0 ? e.Answer : "purple", 0.5f, [], AnswerMode.Direct, [], false)).ToList();
        var report = StudentEvaluator.BuildReport(examples, answers, AnswerMode.Direct, "m", "d", "sha", TimeSpan.FromSeconds(1));

        Assert.Equal(0.5, report.OverallAccuracy);
        Assert.Equal(10, report.Samples);
        foreach (var skill in examples.SelectMany(e => e.Skills).Distinct())
        {
            var expected = examples.Select((e, i) => (e, i)).Where(p => p.e.Skills.Contains(skill)).ToList();
            Assert.Equal(expected.Count, report.PerSkill[skill].Count);
            Assert.Equal(Math.Round((double)expected.Count(p => p.i % 2 == 0) / expected.Count, 6), report.PerSkill[skill].Accuracy);
        }

        Assert.Equal(10, report.PerFamily.Values.Sum(f => f.Count));
        Assert.Equal(5, report.Confusions.Where(c => c.Predicted == "purple").Sum(c => c.Count));
        Assert.All(report.Confusions, c => Assert.NotEqual(c.Expected, c.Predicted));

        using var json = JsonDocument.Parse(report.ToJson());
        foreach (var field in new[] { "overall_accuracy", "per_skill", "per_family", "confusions", "answers", "mode" })
            Assert.True(json.RootElement.TryGetProperty(field, out _), field);
        var firstSkill = json.RootElement.GetProperty("per_skill").EnumerateObject().First().Value;
        Assert.True(firstSkill.TryGetProperty("accuracy", out _));
        Assert.True(firstSkill.TryGetProperty("count", out _));
    }
}
