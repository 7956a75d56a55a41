using System.Text.Json.Serialization;
using FailureSynth.Imaging;
using FailureSynth.World.Questions;

namespace FailureSynth.Loop.Contracts;

/// <summary>How the student is asked: the whole question at once, or step by step with a rationale.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<StudentMode>))]
public enum StudentMode { Direct, Reasoning }

/// <summary>
/// One question for the student. <see cref="Image"/> carries the pixels in-process; a remote student reads
/// <see cref="ImagePath"/> (a PNG under the data root) instead. <see cref="Program"/> is ShapesWorld's program,
/// which the embedded student needs to phrase later reasoning steps; a remote student ignores it.
/// </summary>
public sealed record StudentQuery(
    string SampleId,
    string Question,
    QuestionProgram? Program,
    [property: JsonIgnore] RgbImage? Image,
    string? ImagePath = null);

/// <summary>One step of the student's rationale: the step question, its answer and the probability the student gave it.</summary>
public sealed record StepAnswer(int Index, string Question, string Answer, double Probability)
{
    /// <summary>The answer of a step the teacher is not shown (it keeps the step's place and carries no evidence).</summary>
    public const string Unread = "?";
}

/// <summary>The student's reply: final answer, its probability, rationale (reasoning mode) and log-probabilities of candidate answers.</summary>
public sealed record StudentReply(
    string SampleId,
    string Answer,
    double Probability,
    IReadOnlyList<StepAnswer> Steps,
    IReadOnlyDictionary<string, double> CandidateLogProbabilities);

/// <summary>The model being improved. Embedded: TinyVLM; a later backend: an OpenAI-compatible vision endpoint.</summary>
public interface IStudent
{
    /// <summary>Identifies the weights answering (a checkpoint hash): prediction caches are keyed by it.</summary>
    string ModelVersion { get; }

    /// <summary>Answers every query, in order.</summary>
    Task<IReadOnlyList<StudentReply>> AnswerAsync(IReadOnlyList<StudentQuery> queries, StudentMode mode, CancellationToken cancellationToken);
}

/// <summary>
/// A student served over the OpenAI protocol that can take new weights while it runs (<c>student.reload</c>): the campaign
/// asks it by model name, and after each train stage has it load the new checkpoint under a new name.
/// </summary>
public interface IServedStudent
{
    /// <summary>The model the campaign starts from (<c>student.model</c>).</summary>
    string InitialModel { get; }

    /// <summary>The student answering as <paramref name="model"/>.</summary>
    IStudent For(string model);

    /// <summary>Whether the endpoint lists <paramref name="model"/> (GET /v1/models).</summary>
    Task<bool> ServesAsync(string model, CancellationToken cancellationToken);

    /// <summary>Has the endpoint load the weights at <paramref name="path"/> (a folder or file on the server's machine) as <paramref name="model"/>.</summary>
    Task LoadAsync(string model, string path, CancellationToken cancellationToken);
}
