using System.Diagnostics;
using FailureSynth.TinyVlm.Inference;
using FailureSynth.TinyVlm.Training;

namespace FailureSynth.TinyVlm.Evaluation;

/// <summary>Scores a student's answers against the gold answers and groups them by skill, family and confusion.</summary>
public static class StudentEvaluator
{
    /// <summary>Most frequent confusions kept in the report.</summary>
    public const int ConfusionsKept = 50;

    /// <summary>Answers every example with <paramref name="student"/> in <paramref name="mode"/> and builds the report.</summary>
    public static EvaluationReport Evaluate(
        TinyVlmStudent student,
        IReadOnlyList<StudentExample> examples,
        AnswerMode mode,
        string modelName,
        string dataName,
        string? datasetSha256 = null,
        IProgress<int>? progress = null)
    {
        var stopwatch = Stopwatch.StartNew();
        var answers = student.AnswerAll(examples, mode, progress);
        return BuildReport(examples, answers, mode, modelName, dataName, datasetSha256, stopwatch.Elapsed);
    }

    /// <summary>The report of given answers (one per example, same order).</summary>
    public static EvaluationReport BuildReport(
        IReadOnlyList<StudentExample> examples,
        IReadOnlyList<StudentAnswer> answers,
        AnswerMode mode,
        string modelName,
        string dataName,
        string? datasetSha256,
        TimeSpan elapsed)
    {
        if (examples.Count != answers.Count) throw new ArgumentException($"{answers.Count} answers were given for {examples.Count} examples.", nameof(answers));
        var perSkill = new SortedDictionary<string, (int Right, int Count)>(StringComparer.Ordinal);
        var perFamily = new SortedDictionary<string, (int Right, int Count)>(StringComparer.Ordinal);
        var confusions = new Dictionary<(string, string), int>();
        var evaluated = new List<EvaluatedAnswer>(examples.Count);
        int right = 0, stepRight = 0, stepCount = 0;
        for (var i = 0; i < examples.Count; i++)
        {
            var example = examples[i];
            var answer = answers[i];
            var correct = Same(answer.Answer, example.Answer);
            if (correct) right++;
            else confusions[(example.Answer, answer.Answer)] = confusions.GetValueOrDefault((example.Answer, answer.Answer)) + 1;
            foreach (var skill in example.Skills.Distinct(StringComparer.Ordinal)) Tally(perSkill, skill, correct);
            Tally(perFamily, example.Family ?? "unknown", correct);
            if (mode == AnswerMode.Reasoning)
            {
                for (var s = 0; s < Math.Min(answer.Steps.Count, example.Steps.Count); s++)
                {
                    stepCount++;
                    if (Same(answer.Steps[s].Answer, example.Steps[s].Answer)) stepRight++;
                }
            }

            evaluated.Add(new EvaluatedAnswer(example.Id, example.Answer, answer.Answer, Math.Round(answer.Probability, 6), correct,
                mode == AnswerMode.Reasoning ? [.. answer.Steps.Select(s => s.Answer)] : null));
        }

        return new EvaluationReport(
            modelName,
            dataName,
            datasetSha256,
            mode == AnswerMode.Direct ? "direct" : "reasoning",
            examples.Count,
            Ratio(right, examples.Count),
            mode == AnswerMode.Reasoning ? Ratio(stepRight, stepCount) : null,
            perSkill.ToDictionary(kv => kv.Key, kv => new GroupAccuracy(Ratio(kv.Value.Right, kv.Value.Count), kv.Value.Count), StringComparer.Ordinal),
            perFamily.ToDictionary(kv => kv.Key, kv => new GroupAccuracy(Ratio(kv.Value.Right, kv.Value.Count), kv.Value.Count), StringComparer.Ordinal),
            [.. confusions
                .OrderByDescending(kv => kv.Value)
                .ThenBy(kv => kv.Key.Item1, StringComparer.Ordinal)
                .ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal)
                .Take(ConfusionsKept)
                .Select(kv => new AnswerConfusion(kv.Key.Item1, kv.Key.Item2, kv.Value))],
            Math.Round(elapsed.TotalSeconds, 3),
            evaluated);
    }

    private static bool Same(string predicted, string expected) =>
        string.Equals(predicted.Trim(), expected.Trim(), StringComparison.OrdinalIgnoreCase);

    private static double Ratio(int right, int count) => count == 0 ? 0 : Math.Round((double)right / count, 6);

    private static void Tally(SortedDictionary<string, (int Right, int Count)> table, string key, bool correct)
    {
        var (r, c) = table.GetValueOrDefault(key);
        table[key] = (r + (correct ? 1 : 0), c + 1);
    }
}
