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
    public void Weight_decay_takes_kernels_matrices_and_batch_norm_scales_but_not_biases_layer_norms_or_embeddings()
    {
        var examples = StudentFixtures.Examples(4);
        var names = StudentFixtures.Student(examples).Model.NamedParameters().Select(p => p.Name).ToList();

        string[] decayed = ["image.conv1.weight", "image.bn1.weight", "fusion.bn.weight", "fusion.gamma.weight", "head.output.weight"];
        string[] plain = ["image.conv1.bias", "image.bn1.bias", "head.output.bias", "question.token_embedding.weight"];
        Assert.All(decayed.Concat(plain), n => Assert.Contains(n, names));
        Assert.All(decayed, n => Assert.True(StudentTrainer.Decays(n), n));
        Assert.All(plain, n => Assert.False(StudentTrainer.Decays(n), n));
        var layerNorms = names.Where(n => n.Contains("norm", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(layerNorms);
        Assert.All(layerNorms, n => Assert.False(StudentTrainer.Decays(n), n));
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
    public void Distillation_keeps_the_anchored_answers_closer_to_the_starting_model()
    {
        var old = StudentFixtures.Examples(16, seed: 21);
        var fresh = StudentFixtures.Examples(16, seed: 22);
        var start = StudentFixtures.Student(old);
        StudentTrainer.Train(start, old, new TrainingOptions(Steps: 60, Seed: 1, BatchSize: 8, LearningRate: 1e-2f, WarmupSteps: 5));
        var startBytes = start.Serialize();
        var before = start.AnswerAll(old, AnswerMode.Direct);
        bool[] anchored = [.. fresh.Select(_ => false), .. old.Select(_ => true)];
        var data = fresh.Concat(old).ToList();

        double DriftWith(float weight)
        {
            var student = TinyVlmStudent.FromBytes(startBytes, start.Model.Context, "start");
            StudentTrainer.Train(student, data, new TrainingOptions(Steps: 40, Seed: 2, BatchSize: 8, LearningRate: 1e-2f, WarmupSteps: 4, DistillWeight: weight), anchored: anchored);
            var after = student.AnswerAll(old, AnswerMode.Direct);
            // Mean KL(start || tuned) over the anchored questions.
            return before.Zip(after).Average(p => p.First.LogProbabilities.Zip(p.Second.LogProbabilities)
                .Sum(l => Math.Exp(l.First) * (l.First - l.Second)));
        }

        double plain = DriftWith(0f), distilled = DriftWith(5f);
        Assert.True(plain > 0.01, $"plain fine-tuning should move the answers (KL {plain})");
        Assert.True(distilled < 0.7 * plain, $"with distillation the answers moved as much: KL {distilled} vs {plain} without");
    }

    [Fact]
    public void Frozen_norm_statistics_keep_the_running_statistics_while_the_weights_and_batch_norm_scales_train()
    {
        var examples = StudentFixtures.Examples(16);
        var start = StudentFixtures.Student(examples);
        StudentTrainer.Train(start, examples, new TrainingOptions(Steps: 10, Seed: 1, BatchSize: 8));
        var startBytes = start.Serialize();

        (float[] Mean, float[] Var, float[] Scale, float[] Kernel) Tuned(bool freeze)
        {
            var student = TinyVlmStudent.FromBytes(startBytes, start.Model.Context, "start");
            StudentTrainer.Train(student, StudentFixtures.Examples(16, seed: 5),
                new TrainingOptions(Steps: 5, Seed: 2, BatchSize: 8, LearningRate: 1e-2f, WarmupSteps: 1, FreezeNormStatistics: freeze));
            var bn = student.Model.Image.Norm1;
            return (bn.RunningMean.ToArray(), bn.RunningVar.ToArray(), bn.Weight.ToArray(), student.Model.Image.Conv1.Weight.ToArray());
        }

        var startBn = start.Model.Image.Norm1;
        var frozen = Tuned(freeze: true);
        Assert.Equal(startBn.RunningMean.ToArray(), frozen.Mean);
        Assert.Equal(startBn.RunningVar.ToArray(), frozen.Var);
        Assert.NotEqual(startBn.Weight.ToArray(), frozen.Scale);
        Assert.NotEqual(start.Model.Image.Conv1.Weight.ToArray(), frozen.Kernel);
        // Without the guard the same fine-tuning moves the running statistics.
        Assert.NotEqual(startBn.RunningMean.ToArray(), Tuned(freeze: false).Mean);
    }

    [Fact]
    public void Zero_distillation_weight_trains_exactly_as_without_anchors()
    {
        var examples = StudentFixtures.Examples(16);
        byte[] Run(bool[]? anchored)
        {
            var student = StudentFixtures.Student(examples);
            StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 4, Seed: 3, BatchSize: 8), anchored: anchored);
            return student.Serialize(new Dictionary<string, string>());
        }

        Assert.Equal(Run(null), Run([.. examples.Select((_, i) => i % 2 == 0)]));
    }

    [Fact]
    public void Invalid_settings_are_named()
    {
        var error = Assert.Throws<ArgumentException>(() => new TrainingOptions(Steps: 0, Seed: 1).Validate());
        Assert.Contains("--steps", error.Message);
        Assert.Contains("distillation weight", Assert.Throws<ArgumentException>(() => new TrainingOptions(Steps: 1, Seed: 1, DistillWeight: -1f).Validate()).Message);
        var examples = StudentFixtures.Examples(4);
        var mismatch = Assert.Throws<ArgumentException>(() => StudentTrainer.Train(StudentFixtures.Student(examples), examples,
            new TrainingOptions(Steps: 1, Seed: 1, DistillWeight: 1f), anchored: [true, false]));
        Assert.Contains("2 anchored flags were given for 4 examples", mismatch.Message);
    }
}
