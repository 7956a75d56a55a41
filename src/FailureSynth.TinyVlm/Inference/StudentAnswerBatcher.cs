using FailureSynth.TinyVlm.Training;

namespace FailureSynth.TinyVlm.Inference;

/// <summary>
/// Coalesces concurrent answer requests to one student into shared passes: requests that arrive while a pass runs wait for
/// it to end and are then answered together, in one <see cref="TinyVlmStudent.AnswerAll"/> call whose image batches
/// (up to 128 images per forward pass, on whichever engine the student runs) hold the images of several requests. A lone
/// request waits for nothing. Every answer depends only on its own image and question (evaluation mode: batch norm uses its
/// running statistics), so merging requests changes no answer (checked in the tests on both engines).
/// </summary>
public sealed class StudentAnswerBatcher(TinyVlmStudent student)
{
    private readonly Lock gate = new();
    private readonly List<Pending> queue = [];
    private bool draining;
    private long passes;
    private long requests;

    /// <summary>The student answered with.</summary>
    public TinyVlmStudent Student { get; } = student;

    /// <summary>Merged passes run so far (each one <see cref="TinyVlmStudent.AnswerAll"/> call).</summary>
    public long Passes => Interlocked.Read(ref passes);

    /// <summary>Requests answered so far.</summary>
    public long Requests => Interlocked.Read(ref requests);

    /// <summary>Answers <paramref name="examples"/> in <paramref name="mode"/>, together with whatever other requests are waiting.</summary>
    public Task<IReadOnlyList<StudentAnswer>> AnswerAsync(IReadOnlyList<StudentExample> examples, AnswerMode mode, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0) return Task.FromResult<IReadOnlyList<StudentAnswer>>([]);
        var pending = new Pending(examples, mode, new TaskCompletionSource<IReadOnlyList<StudentAnswer>>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool start;
        lock (gate)
        {
            queue.Add(pending);
            start = !draining;
            draining = true;
        }

        if (start) _ = Task.Run(Drain, CancellationToken.None);
        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    private void Drain()
    {
        while (true)
        {
            List<Pending> batch;
            lock (gate)
            {
                if (queue.Count == 0)
                {
                    draining = false;
                    return;
                }

                // One mode per pass: reasoning asks step questions that direct mode does not.
                var mode = queue[0].Mode;
                batch = [.. queue.Where(p => p.Mode == mode)];
                queue.RemoveAll(p => p.Mode == mode);
            }

            try
            {
                var answers = Student.AnswerAll([.. batch.SelectMany(p => p.Examples)], batch[0].Mode);
                Interlocked.Increment(ref passes);
                Interlocked.Add(ref requests, batch.Count);
                var offset = 0;
                foreach (var p in batch)
                {
                    p.Completion.SetResult([.. answers.Skip(offset).Take(p.Examples.Count)]);
                    offset += p.Examples.Count;
                }
            }
            catch (Exception e)
            {
                foreach (var p in batch) p.Completion.TrySetException(e);
            }
        }
    }

    private sealed record Pending(IReadOnlyList<StudentExample> Examples, AnswerMode Mode, TaskCompletionSource<IReadOnlyList<StudentAnswer>> Completion);
}
