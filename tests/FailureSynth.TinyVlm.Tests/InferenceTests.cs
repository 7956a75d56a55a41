using FailureSynth.TinyVlm.Inference;
using FailureSynth.TinyVlm.Training;
using FailureSynth.World.Questions;

namespace FailureSynth.TinyVlm.Tests;

/// <summary>Direct and reasoning answers: full distributions, and rationales that compose the final answer.</summary>
public class InferenceTests
{
    private static readonly Lazy<(TinyVlmStudent Student, IReadOnlyList<StudentExample> Examples)> Trained = new(() =>
    {
        var examples = StudentFixtures.Examples(12, seed: 21);
        var student = StudentFixtures.Student(examples);
        StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 120, Seed: 2, BatchSize: 12, LearningRate: 1e-2f, WarmupSteps: 10));
        return (student, examples);
    });

    [Fact]
    public void Direct_answer_is_the_most_likely_answer_of_a_full_distribution()
    {
        var (student, examples) = Trained.Value;
        var answer = student.Answer(examples[0], AnswerMode.Direct);
        Assert.Equal(student.Answers.Count, answer.LogProbabilities.Count);
        Assert.Equal(1.0, answer.LogProbabilities.Sum(l => Math.Exp(l)), 4);
        var best = answer.LogProbabilities.Select((l, i) => (l, i)).MaxBy(p => p.l).i;
        Assert.Equal(student.Answers.Answers[best], answer.Answer);
        Assert.Empty(answer.Steps);
    }

    [Fact]
    public void Reasoning_answers_every_step_from_its_own_answers_and_composes_the_final_answer()
    {
        var (student, examples) = Trained.Value;
        var composedOnce = false;
        foreach (var example in examples)
        {
            var answer = student.Answer(example, AnswerMode.Reasoning);
            var program = example.Program!;
            Assert.Equal(Reasoning.StepCount(program), answer.Steps.Count);
            var given = answer.Steps.Select(s => s.Answer).ToList();
            for (var k = 1; k <= answer.Steps.Count; k++)
            {
                var step = answer.Steps[k - 1];
                Assert.Equal(k, step.Index);
                Assert.Equal(Reasoning.StepQuestion(program, k, given[..(k - 1)]), step.Question);
                Assert.Equal(student.Answers.Count, step.LogProbabilities.Count);
                Assert.InRange(step.Probability, 0f, 1f);
            }

            if (Reasoning.TryComposeAnswer(program, given, out var composed, out _))
            {
                composedOnce = true;
                Assert.True(answer.Composed);
                Assert.Equal(composed, answer.Answer);
            }
            else
            {
                Assert.False(answer.Composed);
                Assert.Equal(given[^1], answer.Answer);
            }
        }

        Assert.True(composedOnce, "no rationale composed a final answer");
    }

    [Fact]
    public void Answering_many_questions_at_once_matches_answering_them_one_by_one()
    {
        var (student, examples) = Trained.Value;
        var together = student.AnswerAll(examples, AnswerMode.Reasoning);
        for (var i = 0; i < examples.Count; i++)
        {
            var alone = student.Answer(examples[i], AnswerMode.Reasoning);
            Assert.Equal(alone.Answer, together[i].Answer);
            Assert.Equal(alone.Steps.Select(s => s.Answer), together[i].Steps.Select(s => s.Answer));
        }
    }
}
