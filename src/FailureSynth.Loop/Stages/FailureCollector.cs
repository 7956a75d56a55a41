using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.World;
using FailureSynth.World.Rendering;

namespace FailureSynth.Loop.Stages;

/// <summary>A validation sample the student got wrong, with the sample kept beside it (for the oracle and for reports).</summary>
public sealed record CollectedFailure(Failure Failure, WorldSample Sample);

/// <summary>The evaluate stage: the student answers the validation split in reasoning mode; wrong answers become failures.</summary>
public static class FailureCollector
{
    /// <summary>Questions sent to the student per call.</summary>
    public const int Batch = 256;

    public static async Task<(IReadOnlyList<CollectedFailure> Failures, int Correct)> CollectAsync(
        IStudent student, IReadOnlyList<WorldSample> validation, string scope, int imageSize,
        IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(validation);
        var failures = new List<CollectedFailure>();
        int correct = 0;
        for (int start = 0; start < validation.Count; start += Batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = validation.Skip(start).Take(Batch).ToList();
            var queries = new StudentQuery[chunk.Count];
            Parallel.For(0, chunk.Count, i => queries[i] = new StudentQuery(chunk[i].Id, chunk[i].Question, chunk[i].Program, SceneRasterizer.Render(chunk[i].Scene, imageSize)));
            var replies = await student.AnswerAsync(queries, StudentMode.Reasoning, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < chunk.Count; i++)
            {
                if (ToFailure(chunk[i], replies[i], scope) is { } failure) failures.Add(new CollectedFailure(failure, chunk[i]));
                else correct++;
            }
            progress?.Report(Math.Min(validation.Count, start + Batch));
        }
        return (failures, correct);
    }

    /// <summary>The failure a reply makes of a validation sample, or null when the answer is right.</summary>
    public static Failure? ToFailure(WorldSample sample, StudentReply reply, string scope)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(reply);
        if (string.Equals(reply.Answer.Trim(), sample.ShortAnswer, StringComparison.OrdinalIgnoreCase)) return null;
        return new Failure(
            StableHash.Id("fail", scope, sample.Id),
            sample.Id,
            new TeacherQuestion(sample.Question, sample.Family, sample.Program, sample.Choices),
            sample.ShortAnswer,
            reply.Answer.Trim().ToLowerInvariant(),
            reply.Steps,
            sample.Skills);
    }
}
