using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.World.Tests;

public class GeneratorTests
{
    [Theory]
    [InlineData("balanced", QuestionForm.Open)]
    [InlineData("base-skewed", QuestionForm.Choice)]
    public void Generate_is_deterministic_across_generator_instances(string profile, QuestionForm form)
    {
        var a = new WorldGenerator(Profiles.Get(profile), form);
        var b = new WorldGenerator(Profiles.Get(profile), form);
        for (int i = 0; i < 50; i++)
            Assert.Equal(WorldJson.Serialize(a.Generate(42, i)), WorldJson.Serialize(b.Generate(42, i)));
    }

    [Fact]
    public void Generate_depends_only_on_seed_and_index_not_on_order_or_parallelism()
    {
        var generator = new WorldGenerator(Profiles.Balanced);
        string[] sequential = [.. Enumerable.Range(0, 200).Select(i => WorldJson.Serialize(generator.Generate(7, i)))];
        var parallel = new string[200];
        Parallel.For(0, 200, i => parallel[199 - i] = WorldJson.Serialize(generator.Generate(7, 199 - i)));
        Assert.Equal(sequential, parallel);
        Assert.Equal(sequential[137], WorldJson.Serialize(new WorldGenerator(Profiles.Balanced).Generate(7, 137)));
    }

    [Fact]
    public void The_duplicate_checks_scene_key_is_equal_exactly_when_the_scenes_json_is()
    {
        var generator = new WorldGenerator(Profiles.Balanced);
        var scenes = Enumerable.Range(0, 60).Select(i => generator.Generate(5, i).Scene).ToList();
        var first = scenes[0].Objects[0];
        scenes.Add(scenes[0] with { Objects = [.. scenes[0].Objects] });                                      // a copy: equal
        scenes.Add(scenes[0] with { Objects = [first with { X = Math.BitIncrement(first.X) }, .. scenes[0].Objects.Skip(1)] }); // one ulp apart
        scenes.Add(scenes[0] with { Objects = [first with { Color = first.Color == ObjectColor.Red ? ObjectColor.Orange : ObjectColor.Red }, .. scenes[0].Objects.Skip(1)] });
        scenes.Add(scenes[0] with { Objects = [.. scenes[0].Objects.Reverse()] });                             // same objects, another order
        scenes.Add(scenes[0] with { NoiseSeed = scenes[0].NoiseSeed + 1 });
        scenes.Add(new Scene([], 0, 0.0));
        scenes.Add(new Scene([], 0, -0.0));
        foreach (var a in scenes)
            foreach (var b in scenes)
                Assert.Equal(WorldJson.Serialize(a) == WorldJson.Serialize(b), WorldGenerator.SceneKey(a) == WorldGenerator.SceneKey(b));
    }

    [Fact]
    public void Different_seeds_and_indices_give_different_samples()
    {
        var generator = new WorldGenerator(Profiles.Balanced);
        var scenes = new HashSet<string>();
        for (int seed = 0; seed < 3; seed++)
            for (int i = 0; i < 100; i++)
                scenes.Add(WorldJson.Serialize(generator.Generate(seed, i).Scene));
        Assert.Equal(300, scenes.Count);
    }

    [Fact]
    public void Sample_ids_name_profile_seed_and_index()
    {
        WorldSample s = new WorldGenerator(Profiles.BaseSkewed).Generate(12, 34);
        Assert.Equal("sw-base-skewed-12-000034", s.Id);
        Assert.Equal(12, s.Seed);
        Assert.Equal(34, s.Index);
        Assert.Equal("base-skewed", s.Profile);
    }

    [Fact]
    public void Open_and_choice_forms_ask_the_same_question_about_the_same_scene()
    {
        for (int i = 0; i < 30; i++)
        {
            WorldSample open = new WorldGenerator(Profiles.Balanced, QuestionForm.Open).Generate(3, i);
            WorldSample choice = new WorldGenerator(Profiles.Balanced, QuestionForm.Choice).Generate(3, i);
            Assert.Equal(WorldJson.Serialize(open.Scene), WorldJson.Serialize(choice.Scene));
            Assert.StartsWith(open.Question + "\n", choice.Question);
            Assert.Equal(open.Answer, choice.AnswerText);
        }
    }

    [Fact]
    public void Sample_for_skill_returns_distinct_samples_carrying_the_skill_for_every_taxonomy_key()
    {
        foreach (string profile in Profiles.Names)
        {
            var generator = new WorldGenerator(Profiles.Get(profile), QuestionForm.Choice);
            foreach (SkillInfo skill in SkillTaxonomy.All)
            {
                IReadOnlyList<WorldSample> samples = generator.SampleForSkill(skill.Key, 4, seed: 99);
                Assert.Equal(4, samples.Count);
                Assert.All(samples, s => Assert.Contains(skill.Key, s.Skills));
                Assert.All(samples, s => Assert.Equal(skill.Family, s.Family));
                Assert.Equal(4, samples.Select(s => WorldJson.Serialize(s.Scene)).Distinct().Count());
                Assert.Equal(4, samples.Select(s => s.Question.Split('\n')[0]).Distinct().Count());
                Assert.Equal(4, samples.Select(s => s.Id).Distinct().Count());
                Assert.All(samples, s => Assert.Equal(ProgramExecutor.Execute(s.Program, s.Scene), s.ShortAnswer));
            }
        }
    }

    [Fact]
    public void Sample_for_skill_serves_rare_skills_of_the_skewed_profile_in_quantity()
    {
        var generator = new WorldGenerator(Profiles.BaseSkewed);
        IReadOnlyList<WorldSample> samples = generator.SampleForSkill("count/color=cyan/n>=5", 40, seed: 5);
        Assert.Equal(40, samples.Count);
        Assert.All(samples, s =>
        {
            Assert.Equal(ObjectColor.Cyan, ((CountProgram)s.Program).Target.Color);
            Assert.InRange(int.Parse(s.Answer), 5, CountBuckets.MaxGeneratedCount);
        });
        Assert.Equal(40, samples.Select(s => s.Question).Distinct().Count());
        Assert.Equal("sw-base-skewed-5-count-color-cyan-nge5-000007", samples[7].Id);
    }

    [Fact]
    public void Sample_for_skill_is_deterministic()
    {
        var generator = new WorldGenerator(Profiles.Balanced);
        string first = WorldJson.Serialize(generator.SampleForSkill("relate/above", 6, seed: 1));
        string second = WorldJson.Serialize(new WorldGenerator(Profiles.Balanced).SampleForSkill("relate/above", 6, seed: 1));
        Assert.Equal(first, second);
        Assert.NotEqual(first, WorldJson.Serialize(generator.SampleForSkill("relate/above", 6, seed: 2)));
    }

    [Fact]
    public void Sample_for_unknown_skill_names_the_key_and_lists_valid_ones()
    {
        var generator = new WorldGenerator(Profiles.Balanced);
        var ex = Assert.Throws<ArgumentException>(() => generator.SampleForSkill("count/colour=cyan", 3, 1));
        Assert.Contains("'count/colour=cyan'", ex.Message);
        Assert.Contains("count/color=cyan/n>=5", ex.Message);
        var other = Assert.Throws<ArgumentException>(() => generator.SampleForSkill("juggle/balls", 3, 1));
        Assert.Contains("'juggle/balls'", other.Message);
        Assert.Contains("relate/above", other.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => generator.SampleForSkill("relate/above", -1, 1));
        Assert.Empty(generator.SampleForSkill("relate/above", 0, 1));
    }
}
