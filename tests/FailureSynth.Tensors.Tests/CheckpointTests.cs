using FailureSynth.Tensors;

namespace FailureSynth.Tensors.Tests;

/// <summary>Module checkpoints: save, load, metadata, and mismatch errors.</summary>
public sealed class CheckpointTests
{
    private readonly ComputeContext ctx = TestData.Context();

    private Sequential Model(ulong seed, int hidden = 8) =>
        new(ctx, new Conv2d(ctx, 1, 2, 3, new SplitMix64(seed), padding: 1), new BatchNorm2d(ctx, 2), new Flatten(ctx), new Linear(ctx, 2 * 4 * 4, hidden, new SplitMix64(seed + 1)));

    [Fact]
    public void Saved_state_and_metadata_load_into_a_fresh_model()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tensors-{Guid.NewGuid():N}.safetensors");
        try
        {
            var trained = Model(1);
            trained.Forward(ctx.RandomNormal(new SplitMix64(5), 0f, 1f, 3, 1, 4, 4));
            var metadata = new Dictionary<string, string>
            {
                [Checkpoint.ArchitectureKey] = "{\"hidden\":8}",
                [Checkpoint.TrainingManifestHashKey] = "abc123",
            };
            Checkpoint.Save(path, trained, metadata);

            var fresh = Model(2);
            var loaded = Checkpoint.Load(path, fresh);
            Assert.Equal("abc123", loaded[Checkpoint.TrainingManifestHashKey]);
            foreach (var ((name, expected), (_, actual)) in trained.StateDict().Zip(fresh.StateDict()))
            {
                Assert.True(expected.ToArray().SequenceEqual(actual.ToArray()), $"tensor {name} differs after loading");
            }

            Assert.Equal(File.ReadAllBytes(path), Checkpoint.Serialize(fresh, metadata));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Loading_into_a_different_architecture_names_the_mismatch()
    {
        var bytes = Checkpoint.Serialize(Model(1));
        var file = Safetensors.Deserialize(bytes, "ckpt");
        var wider = Model(1, hidden: 9);
        var shapeError = Assert.Throws<InvalidDataException>(() => Checkpoint.Apply(file, wider, "ckpt"));
        Assert.Contains("tensor '3.weight' has shape [8, 32] but the model expects [9, 32]", shapeError.Message, StringComparison.Ordinal);

        var other = new Sequential(ctx, new Sequential(ctx, new Linear(ctx, 2, 2, new SplitMix64(1))));
        var nameError = Assert.Throws<InvalidDataException>(() => Checkpoint.Apply(file, other, "ckpt"));
        Assert.Contains("missing tensors [0.0.weight, 0.0.bias]", nameError.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected tensors [0.bias, 0.weight, 1.bias", nameError.Message, StringComparison.Ordinal);
    }
}
