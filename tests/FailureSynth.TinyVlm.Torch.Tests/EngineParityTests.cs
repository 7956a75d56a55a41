using FailureSynth.Tensors;
using FailureSynth.TinyVlm.Engines;
using FailureSynth.TinyVlm.Inference;
using FailureSynth.TinyVlm.Reference;
using FailureSynth.TinyVlm.Tests;
using FailureSynth.TinyVlm.Training;

namespace FailureSynth.TinyVlm.Torch.Tests;

/// <summary>
/// The managed engine, TorchSharp and the PyTorch reference (bench/torch/tinyvlm_bench.py, python3-torch) compute the same
/// logits from one checkpoint, a checkpoint trained on either engine answers the same on the other, and TorchSharp training
/// follows the managed recipe (same starting weights, batches, losses and optimiser).
/// </summary>
public class EngineParityTests
{
    private const float Tolerance = 1e-4f;

    private static TorchStudentEngine Engine() => new("cpu", threads: 1);

    [Fact]
    public void Managed_torchsharp_and_pytorch_give_the_same_logits_from_one_checkpoint()
    {
        var examples = StudentFixtures.Examples(6, seed: 4);
        var student = StudentFixtures.Student(examples);
        // A few managed steps move the weights and batch-norm statistics away from their initial values, so every layer matters.
        StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 3, Seed: 1, BatchSize: 6));
        var root = TorchReference.FindRepositoryRoot(AppContext.BaseDirectory)
                   ?? throw new InvalidOperationException($"No FailureSynth.sln above {AppContext.BaseDirectory}.");
        var directory = StudentFixtures.TempDirectory();
        try
        {
            var checkpoint = Path.Combine(directory, "student.safetensors");
            var inputsPath = Path.Combine(directory, "inputs.safetensors");
            student.Save(checkpoint);
            var loaded = TinyVlmStudent.Load(checkpoint, ComputeContext.Create(1));
            var inputs = ModelInputs.FromExamples(loaded, examples);
            inputs.Write(inputsPath);

            var managed = inputs.Logits(loaded.Model);
            var torchSharp = Engine().Logits(loaded.Model, inputs);
            var pytorch = TorchReference.Run(root, checkpoint, inputsPath, threads: 1).Logits;

            Assert.Equal(managed.Length, torchSharp.Length);
            Assert.Equal(managed.Length, pytorch.Length);
            Assert.True(MaxDifference(managed, torchSharp) <= Tolerance, $"max |managed - torchsharp| = {MaxDifference(managed, torchSharp)}");
            Assert.True(MaxDifference(torchSharp, pytorch) <= Tolerance, $"max |torchsharp - pytorch| = {MaxDifference(torchSharp, pytorch)}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_checkpoint_trained_on_torchsharp_answers_the_same_on_the_managed_engine()
    {
        var examples = StudentFixtures.Examples(6, seed: 7);
        var student = StudentFixtures.Student(examples);
        student.Engine = Engine();
        var result = StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 3, Seed: 2, BatchSize: 6));
        Assert.True(float.IsFinite(result.FinalLoss));
        var bytes = student.Serialize();
        Assert.Contains("\"engine\":\"torchsharp\"", student.Metadata[TinyVlmStudent.TrainingKey], StringComparison.Ordinal);

        var onManaged = TinyVlmStudent.FromBytes(bytes, ComputeContext.Create(1), "torchsharp-trained");
        onManaged.Engine = ManagedStudentEngine.Instance;
        var onTorch = TinyVlmStudent.FromBytes(bytes, ComputeContext.Create(1), "torchsharp-trained");
        onTorch.Engine = Engine();
        var managedAnswers = onManaged.AnswerAll(examples, AnswerMode.Reasoning);
        var torchAnswers = onTorch.AnswerAll(examples, AnswerMode.Reasoning);
        for (var i = 0; i < examples.Count; i++)
        {
            Assert.Equal(managedAnswers[i].Answer, torchAnswers[i].Answer);
            Assert.True(MaxDifference(managedAnswers[i].LogProbabilities, torchAnswers[i].LogProbabilities) <= Tolerance, $"example {i}");
            Assert.Equal(managedAnswers[i].Steps.Select(s => s.Answer), torchAnswers[i].Steps.Select(s => s.Answer));
        }
    }

    [Fact]
    public void Torchsharp_training_follows_the_managed_recipe_step_for_step()
    {
        var examples = StudentFixtures.Examples(8, seed: 9);
        var options = new TrainingOptions(Steps: 4, Seed: 3, BatchSize: 4, WarmupSteps: 1);
        var managed = StudentFixtures.Student(examples, threads: 1);
        var torch = StudentFixtures.Student(examples, threads: 1);
        torch.Engine = Engine();

        var managedResult = StudentTrainer.Train(managed, examples, options);
        var torchResult = StudentTrainer.Train(torch, examples, options);

        // Same starting weights, batches, losses and optimiser: only rounding differs after four steps.
        Assert.Equal(managedResult.FinalLoss, torchResult.FinalLoss, 3e-3f);
        Assert.NotNull(torchResult.FinalSceneLoss);
        Assert.Equal(managedResult.FinalSceneLoss!.Value, torchResult.FinalSceneLoss!.Value, 3e-3f);
        // A convolution bias right before batch norm has no true gradient (the norm subtracts it again): AdamW turns its
        // rounding-level gradients into steps of up to the learning rate in either direction, on any two engines. Those
        // biases, and the running means they shift, may differ by at most what the steps can move them; nothing else may.
        string[] cancelled = ["image.conv1.bias", "image.conv2.bias", "image.conv3.bias", "fusion.conv.bias",
            "image.bn1.running_mean", "image.bn2.running_mean", "image.bn3.running_mean", "fusion.bn.running_mean"];
        var managedState = managed.Model.StateDict().ToDictionary(e => e.Name, e => e.Tensor.ToArray());
        foreach (var (name, tensor) in torch.Model.StateDict())
        {
            var difference = MaxDifference(managedState[name], tensor.ToArray());
            var bound = cancelled.Contains(name) ? 2f * options.Steps * options.LearningRate : 1e-3f;
            Assert.True(difference <= bound, $"{name} differs by {difference} (bound {bound})");
        }
    }

    [Fact]
    public void Torchsharp_fine_tuning_follows_the_managed_recipe_with_distillation_frozen_norms_and_probe_warmup()
    {
        // The Trainer service's fine-tuning options (StudentTraining.FineTune): anchored replay, frozen batch-norm statistics, probe warm-up.
        var examples = StudentFixtures.Examples(8, seed: 13);
        var options = new TrainingOptions(Steps: 3, Seed: 4, BatchSize: 4, LearningRate: 1e-3f, WarmupSteps: 1, DistillWeight: 1f, FreezeNormStatistics: true, SceneProbeWarmup: 2);
        bool[] anchored = [.. examples.Select((_, i) => i % 2 == 0)];
        var managed = StudentFixtures.Student(examples, threads: 1);
        var torch = StudentFixtures.Student(examples, threads: 1);
        torch.Engine = Engine();

        var managedResult = StudentTrainer.Train(managed, examples, options, anchored: anchored);
        var torchResult = StudentTrainer.Train(torch, examples, options, anchored: anchored);

        Assert.Equal(managedResult.FinalLoss, torchResult.FinalLoss, 3e-3f);
        var managedState = managed.Model.StateDict().ToDictionary(e => e.Name, e => e.Tensor.ToArray());
        foreach (var (name, tensor) in torch.Model.StateDict())
        {
            // Frozen statistics stay exactly as they were on both engines.
            if (name.Contains("running_", StringComparison.Ordinal)) Assert.Equal(managedState[name], tensor.ToArray());
        }
    }

    [Fact]
    public void Lora_on_torchsharp_is_refused_with_what_to_do()
    {
        var examples = StudentFixtures.Examples(2, seed: 1);
        var student = StudentFixtures.Student(examples);
        student.Engine = Engine();
        var error = Assert.Throws<NotSupportedException>(() => StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 1, Seed: 1, LoraRank: 2)));
        Assert.Contains("--engine managed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Engines_are_chosen_by_name_and_wrong_choices_are_named()
    {
        TorchStudentEngine.Register();
        Assert.Same(ManagedStudentEngine.Instance, StudentEngines.Create("managed", "auto", 1));
        Assert.Equal("cpu", StudentEngines.Create("torchsharp", "cpu", 1).Device);
        Assert.Contains("CPU only", Assert.Throws<ArgumentException>(() => StudentEngines.Create("managed", "cuda", 1)).Message, StringComparison.Ordinal);
        Assert.Contains("Unknown engine 'onnx'", Assert.Throws<ArgumentException>(() => StudentEngines.Create("onnx", "cpu", 1)).Message, StringComparison.Ordinal);
        Assert.Contains("Unknown device 'tpu'", Assert.Throws<ArgumentException>(() => StudentEngines.Create("torchsharp", "tpu", 1)).Message, StringComparison.Ordinal);
        // No GPU on the build machines: asking for one says why and what to use instead.
        if (!TorchSharp.torch.cuda.is_available())
            Assert.Contains("-p:TorchSharpNative=cuda", Assert.Throws<TorchUnavailableException>(() => StudentEngines.Create("torchsharp", "cuda", 1)).Message, StringComparison.Ordinal);
    }

    private static float MaxDifference(IReadOnlyList<float> a, IReadOnlyList<float> b)
    {
        Assert.Equal(a.Count, b.Count);
        var max = 0f;
        for (var i = 0; i < a.Count; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
