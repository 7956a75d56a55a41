using FailureSynth.TinyVlm.Reference;
using FailureSynth.TinyVlm.Training;

namespace FailureSynth.TinyVlm.Tests;

/// <summary>
/// Our engine and the PyTorch reference (bench/torch/tinyvlm_bench.py) compute the same logits from the
/// same checkpoint and inputs. Needs /usr/bin/python3 with python3-torch, which ./test.sh installs;
/// without it the test fails with the install command rather than passing unchecked.
/// </summary>
public class TorchParityTests
{
    [Fact]
    public void Pytorch_reference_gives_the_same_logits_as_our_engine()
    {
        var examples = StudentFixtures.Examples(6, seed: 4);
        var student = StudentFixtures.Student(examples);
        // A few steps move the weights away from their initial values, so every layer matters.
        StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 3, Seed: 1, BatchSize: 6));
        var root = TorchReference.FindRepositoryRoot(AppContext.BaseDirectory)
                   ?? throw new InvalidOperationException($"No FailureSynth.sln above {AppContext.BaseDirectory}.");
        var directory = StudentFixtures.TempDirectory();
        try
        {
            var checkpoint = Path.Combine(directory, "student.safetensors");
            var inputsPath = Path.Combine(directory, "inputs.safetensors");
            student.Save(checkpoint);
            var inputs = ModelInputs.FromExamples(student, examples);
            inputs.Write(inputsPath);

            var ours = inputs.Logits(student.Model);
            var torch = TorchReference.Run(root, checkpoint, inputsPath, threads: 1);

            Assert.Equal(ours.Length, torch.Logits.Length);
            var maxDifference = ours.Zip(torch.Logits).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(maxDifference <= 1e-4f, $"max |ours - torch| = {maxDifference}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
