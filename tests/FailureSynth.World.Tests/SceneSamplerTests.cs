using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Tests;

public class SceneSamplerTests
{
    [Fact]
    public void Unconstrained_scenes_are_legal_and_deterministic()
    {
        var sampler = new SceneSampler(Profiles.Balanced);
        for (int i = 0; i < 500; i++)
        {
            Scene scene = sampler.Sample(DeterministicRandom.Derive(3, i));
            Assert.Empty(SceneSampler.FindLayoutProblems(scene));
            Assert.Equal(WorldJson.Serialize(scene), WorldJson.Serialize(sampler.Sample(DeterministicRandom.Derive(3, i))));
        }
    }

    [Fact]
    public void Blueprint_counts_are_exact_because_distractors_avoid_reserved_descriptions()
    {
        var sampler = new SceneSampler(Profiles.Balanced);
        var cyan = new ObjectFilter(Color: ObjectColor.Cyan);
        for (int i = 0; i < 200; i++)
        {
            var rng = DeterministicRandom.Derive(8, i);
            int k = i % 6;
            var required = Enumerable.Range(0, k).Select(_ => sampler.Complete(cyan, rng)).ToList();
            Scene? scene = sampler.TryBuild(new SceneBlueprint(required, [cyan], TotalObjects: 10), rng);
            Assert.NotNull(scene);
            Assert.Equal(k, cyan.CountIn(scene!));
            Assert.Empty(SceneSampler.FindLayoutProblems(scene!));
        }
    }

    [Fact]
    public void Relative_placement_puts_the_subject_on_the_requested_side_with_margin()
    {
        var sampler = new SceneSampler(Profiles.Balanced);
        foreach (SpatialRelation relation in Enum.GetValues<SpatialRelation>())
        {
            for (int i = 0; i < 50; i++)
            {
                var rng = DeterministicRandom.Derive(9, (int)relation, i);
                ObjectLook subject = new(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Large);
                ObjectLook reference = new(ObjectShape.Square, ObjectColor.Blue, ObjectSize.Large);
                ObjectFilter subjectFilter = new(ObjectShape.Circle, ObjectColor.Red), referenceFilter = new(ObjectShape.Square, ObjectColor.Blue);
                Scene scene = sampler.TryBuild(
                    new SceneBlueprint([subject, reference], [subjectFilter, referenceFilter], 6, new RelativePlacement(0, 1, relation)), rng)!;
                SceneObject s = scene.Objects.Single(subjectFilter.Matches);
                SceneObject r = scene.Objects.Single(referenceFilter.Matches);
                Assert.True(SceneSampler.SatisfiesRelation(s, r, relation));
            }
        }
    }

    [Fact]
    public void Layout_problems_are_found_in_illegal_scenes()
    {
        var overlapping = new Scene(
        [
            new SceneObject(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Large, 0.5, 0.5),
            new SceneObject(ObjectShape.Square, ObjectColor.Red, ObjectSize.Small, 0.6, 0.5),
        ]);
        Assert.Contains(SceneSampler.FindLayoutProblems(overlapping), p => p.Contains("overlap"));
        var outside = new Scene([new SceneObject(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Large, 0.05, 0.5)]);
        Assert.Contains(SceneSampler.FindLayoutProblems(outside), p => p.Contains("outside"));
        Assert.NotEmpty(SceneSampler.FindLayoutProblems(new Scene([])));
    }
}
