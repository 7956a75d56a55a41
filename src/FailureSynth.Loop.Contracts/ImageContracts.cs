using FailureSynth.Imaging;

namespace FailureSynth.Loop.Contracts;

/// <summary>
/// Image synthesis from a free-form description (<c>images.backend: openai</c>): the picture of a proposal that carries an
/// image description instead of a ShapesWorld scene spec. Such a picture cannot be re-rendered, so the campaign stores it.
/// </summary>
public interface IImageSynth
{
    /// <summary>The image model, named in the provenance of every sample whose picture it made.</summary>
    string Name { get; }

    /// <summary>
    /// A <paramref name="size"/> x <paramref name="size"/> picture of <paramref name="description"/>. A reply that is not a
    /// valid picture of that size throws <see cref="InvalidDataException"/> (the sample is rejected with that reason);
    /// an endpoint that refuses the request throws another exception, which stops the run.
    /// </summary>
    Task<RgbImage> GenerateAsync(string description, int size, CancellationToken cancellationToken);
}

/// <summary>
/// A teacher that reads an answer off a picture: the answer check of a sample whose picture came from an image endpoint,
/// where there is no scene to re-execute the question's program on.
/// </summary>
public interface IImageReader
{
    /// <summary>The answer the teacher reads off <paramref name="image"/>, or the reason it gave none.</summary>
    Task<ImageReading> ReadAnswerAsync(TeacherQuestion question, RgbImage image, CancellationToken cancellationToken);
}

/// <summary>The teacher's answer to a question about a picture (null, with <see cref="Problem"/>, when its replies were rejected).</summary>
public sealed record ImageReading(string? Answer, string? Problem);

/// <summary>
/// A teacher that judges whether a free-text answer means the same as the reference answer (datasets without an exact
/// scoring rule: LLaVA conversations, JSONL). Asked only when the normalised texts differ; scores so made are marked
/// <c>teacher-judged</c>.
/// </summary>
public interface IAnswerJudge
{
    Task<AnswerMatch> MatchAnswerAsync(TeacherQuestion question, string reference, string answer, CancellationToken cancellationToken);
}

/// <summary>The teacher's judgement of an answer against the reference (<see cref="Same"/> false, with <see cref="Problem"/>, when its replies were rejected).</summary>
public sealed record AnswerMatch(bool Same, string Reason, string? Problem = null);
