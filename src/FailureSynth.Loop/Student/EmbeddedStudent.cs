using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Inference;
using FailureSynth.TinyVlm.Training;

namespace FailureSynth.Loop.Student;

/// <summary>
/// The embedded student: a TinyVLM answering in-process. Its version is the hash of its checkpoint bytes. With a
/// <paramref name="batcher"/> (the Student service), concurrent requests share forward passes.
/// </summary>
public sealed class EmbeddedStudent(TinyVlmStudent model, string modelVersion, StudentAnswerBatcher? batcher = null) : IStudent
{
    public TinyVlmStudent Model { get; } = model;

    public string ModelVersion { get; } = modelVersion;

    /// <summary>Wraps <paramref name="model"/>, naming it by the SHA-256 of its serialised weights.</summary>
    public static EmbeddedStudent Of(TinyVlmStudent model) => new(model, "tinyvlm-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(model.Serialize()))[..16]);

    public async Task<IReadOnlyList<StudentReply>> AnswerAsync(IReadOnlyList<StudentQuery> queries, StudentMode mode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var examples = new StudentExample[queries.Count];
        for (int i = 0; i < queries.Count; i++)
        {
            var q = queries[i];
            if (q.Image is null)
                throw new ArgumentException($"Query {q.SampleId}: the embedded student needs the image pixels (StudentQuery.Image).", nameof(queries));
            if (mode == StudentMode.Reasoning && q.Program is null)
                throw new ArgumentException($"Query {q.SampleId}: reasoning mode needs the question's program to phrase its steps.", nameof(queries));
            examples[i] = new StudentExample(q.SampleId, q.Image, q.Question, "", null, [], [], q.Program);
        }
        cancellationToken.ThrowIfCancellationRequested();
        var answerMode = mode == StudentMode.Direct ? AnswerMode.Direct : AnswerMode.Reasoning;
        var answers = batcher is null ? Model.AnswerAll(examples, answerMode) : await batcher.AnswerAsync(examples, answerMode, cancellationToken);
        var vocabulary = Model.Answers.Answers;
        var replies = new StudentReply[answers.Count];
        for (int i = 0; i < answers.Count; i++)
        {
            var a = answers[i];
            var logProbabilities = new SortedDictionary<string, double>(StringComparer.Ordinal);
            for (int c = 0; c < vocabulary.Count; c++) logProbabilities[vocabulary[c]] = a.LogProbabilities[c];
            replies[i] = new StudentReply(queries[i].SampleId, a.Answer, a.Probability,
                [.. a.Steps.Select(s => new StepAnswer(s.Index, s.Question, s.Answer, s.Probability))], logProbabilities);
        }
        return replies;
    }
}
