using System.Text.Json;
using FailureSynth.Datasets.ShapesWorld;
using FailureSynth.TinyVlm.Training;
using FailureSynth.World.Scenes;

namespace FailureSynth.TinyVlm.Tests;

/// <summary>The scene term: per-cell targets from a sample's scene, read from datasets and used (or not) by training.</summary>
public class SceneTermTests
{
    [Fact]
    public void Each_object_is_the_target_of_the_grid_cell_that_holds_its_centre()
    {
        var scene = new Scene(
        [
            new SceneObject(ObjectShape.Diamond, ObjectColor.Cyan, ObjectSize.Small, 0.10, 0.20), // column 0, row 1 -> cell 8
            new SceneObject(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Large, 0.99, 0.55), // column 7, row 4 -> cell 39
        ]);

        var cells = SceneTargets.For(scene, 8);

        Assert.Equal(3 * 64, cells.Length);
        Assert.Equal([1 + (int)ObjectShape.Diamond, (int)ObjectColor.Cyan, (int)ObjectSize.Small], cells[(3 * 8)..(3 * 8 + 3)]);
        Assert.Equal([1 + (int)ObjectShape.Circle, (int)ObjectColor.Red, (int)ObjectSize.Large], cells[(3 * 39)..(3 * 39 + 3)]);
        for (var c = 0; c < 64; c++)
        {
            if (c is 8 or 39) continue;
            Assert.Equal([0, SceneTargets.Ignored, SceneTargets.Ignored], cells[(3 * c)..(3 * c + 3)]);
        }

        // A centre on the far edge belongs to the last cell.
        Assert.Equal(1 + (int)ObjectShape.Square, SceneTargets.For(new Scene([new SceneObject(ObjectShape.Square, ObjectColor.Gray, ObjectSize.Small, 1.0, 1.0)]), 8)[3 * 63]);
    }

    [Fact]
    public void Scenes_that_are_not_shapesworld_scenes_are_refused_naming_the_object()
    {
        var outside = new Scene([new SceneObject(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Small, 0.5, 1.5)]);
        Assert.Contains("object 0 has its centre at (0.5, 1.5)", Assert.Throws<ArgumentException>(() => SceneTargets.For(outside, 8)).Message);
        var unknown = new Scene([new SceneObject(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Small, 0.5, 0.5), new SceneObject((ObjectShape)9, ObjectColor.Red, ObjectSize.Small, 0.2, 0.2)]);
        Assert.Contains("object 1 has an unknown shape", Assert.Throws<ArgumentException>(() => SceneTargets.Checked(unknown)).Message);
    }

    [Fact]
    public void A_dataset_folder_gives_each_example_the_scene_of_its_provenance_and_a_broken_scene_is_named()
    {
        var directory = StudentFixtures.TempDirectory();
        try
        {
            ShapesWorldExporter.Export(new ShapesWorldExportRequest("balanced", 6, 4, directory, Threads: 1));
            var examples = StudentExamples.Load(directory, 64, 1);
            var samples = StudentFixtures.Samples(6, seed: 4);

            Assert.Equal(6, examples.Count);
            foreach (var (example, sample) in examples.Zip(samples))
            {
                Assert.Equal(sample.Id, example.Id);
                Assert.Equal(sample.Scene.Objects, example.Scene!.Objects);
            }

            // Move the first sample's first object off the image: loading names the file, the line and the sample.
            var provenance = Path.Combine(directory, "provenance.jsonl");
            var lines = File.ReadAllLines(provenance);
            var record = System.Text.Json.Nodes.JsonNode.Parse(lines[0])!;
            record["provenance"]!["scene"]!["objects"]![0]!["x"] = 2.5;
            lines[0] = record.ToJsonString();
            File.WriteAllLines(provenance, lines);
            var error = Assert.Throws<InvalidDataException>(() => StudentExamples.Load(directory, 64, 1));
            Assert.Contains("provenance.jsonl, line 1", error.Message);
            Assert.Contains($"sample '{samples[0].Id}'", error.Message);
            Assert.Contains("outside the image", error.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_scene_term_changes_training_only_for_examples_with_a_scene_and_is_recorded_when_used()
    {
        var examples = StudentFixtures.Examples(16);
        var withoutScenes = examples.Select(e => e with { Scene = null }).ToList();
        (byte[] Bytes, string Settings) Run(IReadOnlyList<StudentExample> data, float weight)
        {
            var student = StudentFixtures.Student(data);
            StudentTrainer.Train(student, data, new TrainingOptions(Steps: 4, Seed: 3, BatchSize: 8, SceneWeight: weight));
            return (student.Serialize(new Dictionary<string, string>()), student.Metadata[TinyVlmStudent.TrainingKey]);
        }

        var off = Run(examples, 0f);
        var on = Run(examples, 1f);
        Assert.NotEqual(off.Bytes, on.Bytes);
        Assert.Equal(1.0, JsonDocument.Parse(on.Settings).RootElement.GetProperty("scene_weight").GetDouble());
        Assert.False(JsonDocument.Parse(off.Settings).RootElement.TryGetProperty("scene_weight", out _));

        // Without scenes there is nothing to add: the same weights as with the term off, and nothing recorded.
        var noScenes = Run(withoutScenes, 1f);
        Assert.Equal(off.Bytes, noScenes.Bytes);
        Assert.False(JsonDocument.Parse(noScenes.Settings).RootElement.TryGetProperty("scene_weight", out _));
    }

    [Fact]
    public void With_the_scene_term_training_fits_every_cell_of_the_training_images()
    {
        // 16 images x 64 cells: before training the three cross-entropies sum to about ln 5 + ln 8 + ln 2 = 4.4.
        var examples = StudentFixtures.Examples(16);
        var student = StudentFixtures.Student(examples);
        var result = StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 120, Seed: 2, BatchSize: 16, LearningRate: 1e-2f, WarmupSteps: 10));

        Assert.NotNull(result.FinalSceneLoss);
        Assert.True(result.FinalSceneLoss < 0.3f, $"final scene term {result.FinalSceneLoss}");
        Assert.Null(StudentTrainer.Train(StudentFixtures.Student(examples), examples, new TrainingOptions(Steps: 2, Seed: 2, SceneWeight: 0f)).FinalSceneLoss);
    }

    [Fact]
    public void The_probe_warm_up_changes_only_the_start_of_fine_tuning_and_is_recorded()
    {
        var examples = StudentFixtures.Examples(16);
        var start = StudentFixtures.Student(examples);
        StudentTrainer.Train(start, examples, new TrainingOptions(Steps: 20, Seed: 1, BatchSize: 8));
        var startBytes = start.Serialize();
        (byte[] Bytes, JsonElement Settings) Tune(int warmup)
        {
            var student = TinyVlmStudent.FromBytes(startBytes, start.Model.Context, "start");
            StudentTrainer.Train(student, examples, new TrainingOptions(Steps: 3, Seed: 2, BatchSize: 8, SceneProbeWarmup: warmup));
            return (student.Serialize(new Dictionary<string, string>()), JsonDocument.Parse(student.Metadata[TinyVlmStudent.TrainingKey]).RootElement.Clone());
        }

        var cold = Tune(0);
        var warm = Tune(30);
        Assert.NotEqual(cold.Bytes, warm.Bytes);
        Assert.Equal(warm.Bytes, Tune(30).Bytes);
        Assert.Equal(30, warm.Settings.GetProperty("scene_probe_warmup").GetInt32());
        Assert.False(cold.Settings.TryGetProperty("scene_probe_warmup", out _));
        Assert.Contains("--probe-warmup", Assert.Throws<ArgumentException>(() => new TrainingOptions(Steps: 1, Seed: 1, SceneProbeWarmup: -1).Validate()).Message);
        Assert.Contains("--scene-weight", Assert.Throws<ArgumentException>(() => new TrainingOptions(Steps: 1, Seed: 1, SceneWeight: float.NaN).Validate()).Message);
    }
}
