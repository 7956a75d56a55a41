using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Tests;

public class JsonTests
{
    public static TheoryData<QuestionProgram> Programs =>
    [
        new ExistProgram(new ObjectFilter(ObjectShape.Triangle, ObjectColor.Cyan)),
        new CountProgram(new ObjectFilter(Color: ObjectColor.Orange, Size: ObjectSize.Large)),
        new QueryProgram(new ObjectFilter(ObjectShape.Circle), ObjectAttribute.Color),
        new CompareProgram(new ObjectFilter(Color: ObjectColor.Red), new ObjectFilter(Color: ObjectColor.Blue), CountComparison.Fewer),
        new RelateProgram(new ObjectFilter(ObjectShape.Square), new ObjectFilter(ObjectShape.Diamond, Size: ObjectSize.Small), SpatialRelation.Below),
        new SameProgram(new ObjectFilter(Size: ObjectSize.Small), new ObjectFilter(Size: ObjectSize.Large), ObjectAttribute.Shape),
        new ArithProgram(new ObjectFilter(ObjectShape.Circle), new ObjectFilter(ObjectShape.Square), ArithOperation.Difference),
    ];

    [Theory]
    [MemberData(nameof(Programs))]
    public void Program_round_trips_through_json_with_a_family_discriminator(QuestionProgram program)
    {
        string json = WorldJson.Serialize(program);
        Assert.StartsWith($"{{\"family\":\"{QuestionKeys.Of(program.Family)}\"", json);
        QuestionProgram back = WorldJson.Deserialize<QuestionProgram>(json);
        Assert.Equal(program, back);
        Assert.Equal(program.GetType(), back.GetType());
    }

    [Fact]
    public void Scene_round_trips_through_json()
    {
        var scene = new Scene(
        [
            new SceneObject(ObjectShape.Circle, ObjectColor.Cyan, ObjectSize.Large, 0.2, 0.3),
            new SceneObject(ObjectShape.Diamond, ObjectColor.Orange, ObjectSize.Small, 0.7123, 0.8),
        ], NoiseSeed: 17, NoiseAmplitude: 0.031);
        string json = WorldJson.Serialize(scene);
        Assert.Contains("\"shape\":\"Circle\"", json);
        Assert.DoesNotContain("radius", json, StringComparison.OrdinalIgnoreCase);
        Scene back = WorldJson.Deserialize<Scene>(json);
        Assert.Equal(scene.Objects, back.Objects);
        Assert.Equal(scene.NoiseSeed, back.NoiseSeed);
        Assert.Equal(scene.NoiseAmplitude, back.NoiseAmplitude);
    }

    [Fact]
    public void Generated_samples_round_trip_through_json()
    {
        foreach (WorldSample s in Corpus.All.Take(500))
        {
            string json = WorldJson.Serialize(s);
            WorldSample back = WorldJson.Deserialize<WorldSample>(json);
            Assert.Equal(json, WorldJson.Serialize(back));
            Assert.Equal(s.Program, back.Program);
            Assert.Equal(s.Scene.Objects, back.Scene.Objects);
            Assert.Equal(ProgramExecutor.Execute(s.Program, s.Scene), ProgramExecutor.Execute(back.Program, back.Scene));
        }
    }
}
