using System.Text.Json.Serialization;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.World;

/// <summary>
/// One ShapesWorld sample: scene spec, program, question text, exact answer, reasoning steps and
/// skills. <see cref="Answer"/> is the short answer (open form) or the option letter (choice
/// form); <see cref="AnswerText"/> is the underlying answer for the choice form and null for
/// the open form; <see cref="Choices"/> holds the option texts in letter order.
/// </summary>
public sealed record WorldSample(
    string Id,
    string Family,
    QuestionForm Form,
    Scene Scene,
    QuestionProgram Program,
    string Question,
    string Answer,
    string? AnswerText,
    IReadOnlyList<string>? Choices,
    IReadOnlyList<ReasoningStep> Steps,
    IReadOnlyList<string> Skills,
    long Seed,
    int Index,
    string Profile)
{
    /// <summary>The answer as a word or number, whatever the form.</summary>
    [JsonIgnore]
    public string ShortAnswer => AnswerText ?? Answer;
}
