using FailureSynth.TinyVlm.Inference;
using FailureSynth.TinyVlm.Training;

namespace FailureSynth.TinyVlm.Tests;

/// <summary>The student can learn, and training is reproducible to the byte.</summary>
public class TrainingTests
{
    [Fact]
    public void Student_overfits_a_small_batch_to_full_accuracy()
    {
        var examples = StudentFixtures.Examples(8);
        var student = StudentFixtures.Student(examples);
        var result = StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 250, Seed: 3, BatchSize: 8, LearningRate: 1e-2f, WarmupSteps: 10));

        var answers = student.AnswerAll(examples, AnswerMode.Direct);
        var right = examples.Zip(answers).Count(p => p.First.Answer == p.Second.Answer);
        Assert.Equal(examples.Count, right);
        Assert.True(result.FinalLoss < 0.1f, $"final loss {result.FinalLoss}");
    }

    [Fact]
    public void Same_seed_and_threads_give_identical_checkpoint_bytes()
    {
        var examples = StudentFixtures.Examples(24);
        byte[] Run(ulong seed)
        {
            var student = StudentFixtures.Student(examples, seed, threads: 2);
            StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 6, Seed: seed, BatchSize: 8));
            return student.Serialize(new Dictionary<string, string> { ["training_manifest_sha256"] = "test" });
        }

        var first = Run(7);
        Assert.Equal(first, Run(7));
        Assert.NotEqual(first, Run(8));
    }

    [Fact]
    public void Lora_training_changes_only_what_the_adapters_merge_into_linear_weights()
    {
        var examples = StudentFixtures.Examples(8);
        var student = StudentFixtures.Student(examples);
        var convBefore = student.Model.Image.Conv1.Weight.ToArray();
        var headBefore = student.Model.Head.Output.Weight.ToArray();
        StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 5, Seed: 1, BatchSize: 8, LoraRank: 2));

        Assert.Equal(convBefore, student.Model.Image.Conv1.Weight.ToArray());
        Assert.NotEqual(headBefore, student.Model.Head.Output.Weight.ToArray());
        Assert.False(student.Model.HasAdapters);
        Assert.All(student.Model.Parameters(), p => Assert.True(p.RequiresGrad));
    }

    [Fact]
    public void Invalid_settings_are_named()
    {
        var error = Assert.Throws<ArgumentException>(() => new TrainingOptions(Steps: 0, Seed: 1).Validate());
        Assert.Contains("--steps", error.Message);
    }
}
