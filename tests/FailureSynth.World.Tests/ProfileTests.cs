using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Tests;

public class ProfileTests
{
    [Fact]
    public void Shipped_profiles_are_found_by_name_and_valid()
    {
        Assert.Equal(["balanced", "base-skewed"], Profiles.Names);
        foreach (string name in Profiles.Names)
        {
            Profile p = Profiles.Get(name);
            Assert.Equal(name, p.Name);
            Assert.False(string.IsNullOrWhiteSpace(p.Description));
            p.Validate();
        }
    }

    [Fact]
    public void Unknown_profile_names_the_input_and_lists_known_profiles()
    {
        var ex = Assert.Throws<ArgumentException>(() => Profiles.Get("skewed"));
        Assert.Contains("'skewed'", ex.Message);
        Assert.Contains("balanced", ex.Message);
        Assert.Contains("base-skewed", ex.Message);
    }

    [Fact]
    public void Weight_table_rejects_missing_duplicate_and_negative_weights()
    {
        var missing = Assert.Throws<ArgumentException>(() => WeightTable<SpatialRelation>.Of((SpatialRelation.Left, 1), (SpatialRelation.Right, 1)));
        Assert.Contains("Above", missing.Message);
        Assert.Throws<ArgumentException>(() => WeightTable<ObjectSize>.Of((ObjectSize.Small, 1), (ObjectSize.Small, 1), (ObjectSize.Large, 1)));
        Assert.Throws<ArgumentException>(() => WeightTable<ObjectSize>.Of((ObjectSize.Small, -1), (ObjectSize.Large, 1)));
        Assert.Throws<ArgumentException>(() => WeightTable<ObjectSize>.Of((ObjectSize.Small, 0), (ObjectSize.Large, 0)));
    }

    [Fact]
    public void Weight_table_sampling_follows_weights_and_excludes_on_request()
    {
        var table = WeightTable<ObjectSize>.Of((ObjectSize.Small, 3), (ObjectSize.Large, 1));
        Assert.Equal(0.75, table.Probability(ObjectSize.Small), 12);
        var rng = new DeterministicRandom(1);
        int small = Enumerable.Range(0, 4000).Count(_ => table.Sample(rng) == ObjectSize.Small);
        Assert.InRange(small, 2850, 3150);
        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(ObjectSize.Large, table.SampleOtherThan(ObjectSize.Small, rng)));
    }

    [Fact]
    public void Invalid_profile_is_rejected_with_its_name_and_field()
    {
        Profile bad = Profiles.Balanced with { Name = "tiny", MinObjects = 4, MaxObjects = 2 };
        var ex = Assert.Throws<ArgumentException>(() => new WorldGenerator(bad));
        Assert.Contains("'tiny'", ex.Message);
        Assert.Contains("object count", ex.Message);
        Assert.Throws<ArgumentException>(() => new WorldGenerator(Profiles.Balanced with { YesProbability = 1.5 }));
        Assert.Throws<ArgumentException>(() => new WorldGenerator(Profiles.Balanced with { MaxObjects = Scene.MaxObjects + 1 }));
    }

    [Fact]
    public void A_custom_profile_that_only_asks_relate_questions_only_yields_relate_samples()
    {
        Profile onlyRelate = Profiles.Balanced with
        {
            Name = "relate-only",
            Families = WeightTable<QuestionFamily>.Of(
                (QuestionFamily.Exist, 0), (QuestionFamily.Count, 0), (QuestionFamily.Query, 0), (QuestionFamily.Compare, 0),
                (QuestionFamily.Relate, 1), (QuestionFamily.Same, 0), (QuestionFamily.Arith, 0)),
            YesProbability = 1,
        };
        var generator = new WorldGenerator(onlyRelate);
        Assert.All(Enumerable.Range(0, 100).Select(i => generator.Generate(1, i)), s =>
        {
            Assert.Equal("relate", s.Family);
            Assert.Equal("yes", s.Answer);
        });
    }
}
