using FailureSynth.TinyVlm.Engines;
using FailureSynth.TinyVlm.Inference;
using FailureSynth.TinyVlm.Tests;
using FailureSynth.TinyVlm.Training;

namespace FailureSynth.TinyVlm.Torch.Tests;

/// <summary>The Student service's batcher: concurrent requests share passes and get exactly the answers they would get alone.</summary>
public class AnswerBatchingTests
{
    [Theory]
    [InlineData("managed")]
    [InlineData("torchsharp")]
    public async Task Concurrent_requests_share_passes_and_get_the_answers_they_would_get_alone(string engine)
    {
        var examples = StudentFixtures.Examples(12, seed: 21);
        var student = StudentFixtures.Student(examples);
        StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 2, Seed: 1, BatchSize: 6));
        TorchStudentEngine.Register();
        student.Engine = StudentEngines.Create(engine, "cpu", 1);
        var requests = examples.Chunk(3).Select(c => (IReadOnlyList<StudentExample>)c).ToList();
        var alone = requests.Select(r => student.AnswerAll(r, AnswerMode.Reasoning)).ToList();

        var batcher = new StudentAnswerBatcher(student);
        var together = await Task.WhenAll(requests.Select(r => batcher.AnswerAsync(r, AnswerMode.Reasoning)));

        Assert.Equal(requests.Count, batcher.Requests);
        Assert.True(batcher.Passes < requests.Count, $"{batcher.Passes} passes for {requests.Count} concurrent requests: nothing was merged");
        for (var r = 0; r < requests.Count; r++)
        {
            Assert.Equal(requests[r].Count, together[r].Count);
            for (var i = 0; i < requests[r].Count; i++)
            {
                Assert.Equal(alone[r][i].Answer, together[r][i].Answer);
                Assert.Equal(alone[r][i].Steps.Select(s => s.Answer), together[r][i].Steps.Select(s => s.Answer));
                var difference = alone[r][i].LogProbabilities.Zip(together[r][i].LogProbabilities).Max(p => Math.Abs(p.First - p.Second));
                Assert.True(difference <= 1e-5f, $"request {r}, example {i}: log-probabilities moved by {difference} when batched");
            }
        }
    }

    [Fact]
    public async Task A_failing_pass_fails_its_requests_and_the_next_pass_still_runs()
    {
        var examples = StudentFixtures.Examples(2, seed: 3);
        var student = StudentFixtures.Student(examples);
        var batcher = new StudentAnswerBatcher(student);
        // A 16x16 image where the student takes 64x64: refused by the pass, reported to the request that sent it.
        var wrong = examples[0] with { Image = new FailureSynth.Imaging.RgbImage(16, 16) };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => batcher.AnswerAsync([wrong], AnswerMode.Direct));
        Assert.Contains("16x16", error.Message, StringComparison.Ordinal);
        var answers = await batcher.AnswerAsync(examples, AnswerMode.Direct);
        Assert.Equal(2, answers.Count);
    }
}
