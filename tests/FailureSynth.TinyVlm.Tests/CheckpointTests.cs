using FailureSynth.Tensors;
using FailureSynth.TinyVlm.Inference;

namespace FailureSynth.TinyVlm.Tests;

/// <summary>Checkpoints rebuild the same student from the file alone.</summary>
public class CheckpointTests
{
    [Fact]
    public void Saved_and_loaded_student_gives_identical_log_probabilities_and_bytes()
    {
        var examples = StudentFixtures.Examples(6);
        var student = StudentFixtures.Student(examples);
        var directory = StudentFixtures.TempDirectory();
        try
        {
            var path = Path.Combine(directory, "student.safetensors");
            student.Save(path, new Dictionary<string, string> { [Checkpoint.TrainingManifestHashKey] = "abc" });
            var loaded = TinyVlmStudent.Load(path, ComputeContext.Create(2));

            var before = student.AnswerAll(examples, AnswerMode.Direct);
            var after = loaded.AnswerAll(examples, AnswerMode.Direct);
            for (var i = 0; i < examples.Count; i++)
                Assert.Equal(before[i].LogProbabilities, after[i].LogProbabilities);
            Assert.Equal("abc", loaded.Metadata[Checkpoint.TrainingManifestHashKey]);
            Assert.Equal(student.Tokens.Tokens, loaded.Tokens.Tokens);
            Assert.Equal(student.Model.Config, loaded.Model.Config);
            Assert.Equal(File.ReadAllBytes(path), loaded.Serialize());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_safetensors_file_that_is_not_a_student_is_rejected_with_its_name()
    {
        var directory = StudentFixtures.TempDirectory();
        try
        {
            var path = Path.Combine(directory, "other.safetensors");
            Safetensors.Write(path, [new SafetensorsTensor("w", [1], [1f])]);
            var error = Assert.Throws<InvalidDataException>(() => TinyVlmStudent.Load(path, ComputeContext.Create(1)));
            Assert.Contains(path, error.Message);
            Assert.Throws<FileNotFoundException>(() => TinyVlmStudent.Load(Path.Combine(directory, "missing.safetensors"), ComputeContext.Create(1)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_checkpoint_of_an_older_student_format_is_rejected_with_a_retrain_hint()
    {
        var student = StudentFixtures.Student(StudentFixtures.Examples(2), threads: 1);
        var file = Safetensors.Deserialize(student.Serialize());
        var metadata = new Dictionary<string, string>(file.Metadata) { [TinyVlmStudent.FormatKey] = "failuresynth-tinyvlm/1" };
        var old = Safetensors.Serialize(file.Tensors, metadata);

        var error = Assert.Throws<InvalidDataException>(() => TinyVlmStudent.FromBytes(old, ComputeContext.Create(1), "old.safetensors"));

        Assert.Contains("old.safetensors", error.Message);
        Assert.Contains("failuresynth-tinyvlm/1", error.Message);
        Assert.Contains("student train", error.Message);
        Assert.NotNull(TinyVlmStudent.FromBytes(student.Serialize(), ComputeContext.Create(1), "new.safetensors"));
    }
}
