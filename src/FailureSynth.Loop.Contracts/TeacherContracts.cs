using FailureSynth.Imaging;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.Loop.Contracts;

/// <summary>
/// A question as the teacher sees it: the text (all an LLM teacher reads), the family and, for ShapesWorld
/// questions, the program (which the embedded teacher reasons over). Never the image or the scene.
/// </summary>
public sealed record TeacherQuestion(string Text, string? Family, QuestionProgram? Program, IReadOnlyList<string>? Choices = null);

/// <summary>The prior of answer-switch: the teacher is told <see cref="Answer"/> is right with <see cref="Probability"/>.</summary>
public sealed record BiasedPrior(string Answer, double Probability);

/// <summary>A wrong answer of the student on a validation sample, with its rationale.</summary>
/// <param name="Id">Deterministic id (campaign, iteration, sample).</param>
/// <param name="Skills">The sample's skill keys (known for the validation split; used only for reporting).</param>
public sealed record Failure(
    string Id,
    string SampleId,
    TeacherQuestion Question,
    string Gold,
    string Predicted,
    IReadOnlyList<StepAnswer> Steps,
    IReadOnlyList<string> Skills);

/// <summary>Where a locator puts the first wrong step (1-based), and how it decided.</summary>
public sealed record LocatedStep(int Index, string Question, string Answer, string Method, bool Fallback, IReadOnlyList<double>? Margins = null);

/// <summary>The one missing skill behind a located step: plain-English text plus the canonical key when the teacher knows one.</summary>
public sealed record SkillDiagnosis(string Text, string? SkillKey);

/// <summary>One proposed training sample (untrusted until the quality filter has verified it).</summary>
/// <param name="Scene">Scene spec to render (ShapesWorld); null when <paramref name="ImageDescription"/> is used instead.</param>
/// <param name="ImageDescription">Free-form description for an image endpoint (LLM teachers).</param>
/// <param name="Program">Program of the question when the teacher can state it; the filter re-executes it on the scene.</param>
public sealed record SampleProposal(
    string Id,
    string? SkillKey,
    Scene? Scene,
    string? ImageDescription,
    string Question,
    string Answer,
    IReadOnlyList<string> Rationale,
    QuestionProgram? Program);

/// <summary>The judge's score of a rendered proposal: 1 (unusable) .. 3 (clear and correct), with the reason.</summary>
public sealed record JudgeVerdict(int Score, string Reason);

/// <summary>
/// The teacher: scores answers from text alone, names missing skills, proposes samples and judges rendered ones.
/// Embedded: a probabilistic teacher over ShapesWorld's generative prior. Later: any OpenAI-compatible chat model.
/// </summary>
public interface ITeacher
{
    /// <summary>Stable name of the teacher and its settings (teacher-call caches are keyed by it).</summary>
    string Name { get; }

    /// <summary>Probability of each candidate given the question and the steps so far, without the image; a step answered <see cref="StepAnswer.Unread"/> is not read.</summary>
    Task<IReadOnlyList<double>> ScoreAnswersAsync(TeacherQuestion question, IReadOnlyList<string> candidates, IReadOnlyList<StepAnswer> stepsSoFar, BiasedPrior? prior, CancellationToken cancellationToken);

    /// <summary>The one skill missing behind <paramref name="step"/> of <paramref name="failure"/>.</summary>
    Task<SkillDiagnosis> DiagnoseSkillAsync(Failure failure, LocatedStep step, CancellationToken cancellationToken);

    /// <summary><paramref name="n"/> new samples exercising <paramref name="skill"/>.</summary>
    Task<IReadOnlyList<SampleProposal>> ProposeAsync(SkillDiagnosis skill, Failure? failure, int n, long seed, CancellationToken cancellationToken);

    /// <summary>Scores a rendered proposal 1..3.</summary>
    Task<JudgeVerdict> JudgeAsync(SampleProposal sample, RgbImage image, CancellationToken cancellationToken);

    /// <summary>The skill a question (with its known answer, when there is one) needs, as text for the BM25 index of a support pool.</summary>
    Task<string> DescribeRequiredSkillAsync(TeacherQuestion question, string? answer, CancellationToken cancellationToken);
}
