using System.Text.Json;
using System.Text.Json.Serialization;

namespace FailureSynth.TinyVlm.Evaluation;

/// <summary>Accuracy over a group of questions (a skill, a family).</summary>
public sealed record GroupAccuracy(
    [property: JsonPropertyName("accuracy")] double Accuracy,
    [property: JsonPropertyName("count")] int Count);

/// <summary>How often the student gave <paramref name="Predicted"/> where <paramref name="Expected"/> was right.</summary>
public sealed record AnswerConfusion(
    [property: JsonPropertyName("expected")] string Expected,
    [property: JsonPropertyName("predicted")] string Predicted,
    [property: JsonPropertyName("count")] int Count);

/// <summary>The student's answer to one evaluated question.</summary>
public sealed record EvaluatedAnswer(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("expected")] string Expected,
    [property: JsonPropertyName("predicted")] string Predicted,
    [property: JsonPropertyName("probability")] double Probability,
    [property: JsonPropertyName("correct")] bool Correct,
    [property: JsonPropertyName("step_answers")] IReadOnlyList<string>? StepAnswers);

/// <summary>
/// The evaluation of a student on a dataset: overall accuracy, accuracy per skill and per family, the
/// most frequent answer confusions, and every answer. Written as report.json by <c>student eval</c>.
/// </summary>
public sealed record EvaluationReport(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("data")] string Data,
    [property: JsonPropertyName("dataset_sha256")] string? DatasetSha256,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("samples")] int Samples,
    [property: JsonPropertyName("overall_accuracy")] double OverallAccuracy,
    [property: JsonPropertyName("step_accuracy")] double? StepAccuracy,
    [property: JsonPropertyName("per_skill")] IReadOnlyDictionary<string, GroupAccuracy> PerSkill,
    [property: JsonPropertyName("per_family")] IReadOnlyDictionary<string, GroupAccuracy> PerFamily,
    [property: JsonPropertyName("confusions")] IReadOnlyList<AnswerConfusion> Confusions,
    [property: JsonPropertyName("elapsed_seconds")] double ElapsedSeconds,
    [property: JsonPropertyName("answers")] IReadOnlyList<EvaluatedAnswer> Answers)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    /// <summary>The report as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);
}
