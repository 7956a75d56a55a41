using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.World.Tests;

public class SkillTaxonomyTests
{
    [Fact]
    public void Taxonomy_is_finite_unique_and_every_key_parses_back_to_itself()
    {
        Assert.InRange(SkillTaxonomy.All.Count, 40, 120);
        Assert.Equal(SkillTaxonomy.All.Count, SkillTaxonomy.All.Select(s => s.Key).Distinct().Count());
        foreach (SkillInfo info in SkillTaxonomy.All)
        {
            Assert.True(SkillTaxonomy.TryParse(info.Key, out SkillKey key));
            Assert.Equal(info.Key, key.ToString());
            Assert.Equal(info.Family, QuestionKeys.Of(key.Family));
            Assert.StartsWith(info.Family + "/", info.Key);
            Assert.Equal(info.Description, SkillTaxonomy.Describe(info.Key));
            Assert.DoesNotContain('\n', info.Description);
            Assert.EndsWith(".", info.Description);
        }
        Assert.Equal(
            Enum.GetValues<QuestionFamily>().Select(QuestionKeys.Of),
            SkillTaxonomy.All.Select(s => s.Family).Distinct());
    }

    [Theory]
    [InlineData("count/color=cyan/n>=5")]
    [InlineData("count/color=red/n=0")]
    [InlineData("exist/shape=triangle")]
    [InlineData("query/color")]
    [InlineData("query/shape")]
    [InlineData("query/size")]
    [InlineData("compare/count")]
    [InlineData("relate/left")]
    [InlineData("relate/above")]
    [InlineData("same/color")]
    [InlineData("same/size")]
    [InlineData("arith/sum")]
    [InlineData("arith/diff")]
    public void Keys_named_in_the_issue_are_in_the_taxonomy(string key) => Assert.True(SkillTaxonomy.Contains(key));

    [Fact]
    public void Unknown_key_gives_a_message_with_the_key_and_what_to_use()
    {
        var ex = Assert.Throws<ArgumentException>(() => SkillTaxonomy.Describe("relate/behind"));
        Assert.Contains("'relate/behind'", ex.Message);
        Assert.Contains("relate/left", ex.Message);
        Assert.False(SkillTaxonomy.TryParse("count/color=cyan", out _));
        Assert.Throws<ArgumentException>(() => SkillTaxonomy.Parse(""));
    }

    [Theory]
    [InlineData("query/shape=diamond", "query/shape=circle query/shape=square query/shape=triangle")]
    [InlineData("query/size=small", "query/size=large")]
    [InlineData("count/color=cyan/n>=5", "count/color=cyan/n=0 count/color=cyan/n=1-2 count/color=cyan/n=3-4")]
    [InlineData("query/shape", "")]
    [InlineData("exist/shape=square", "")]
    [InlineData("relate/above", "")]
    [InlineData("arith/diff", "")]
    public void Answer_siblings_are_the_same_question_pinned_to_another_answer(string key, string expected)
    {
        Assert.Equal(expected, string.Join(' ', SkillTaxonomy.AnswerSiblings(key)));
        Assert.All(SkillTaxonomy.AnswerSiblings(key), sibling => Assert.Contains(key, SkillTaxonomy.AnswerSiblings(sibling)));
    }

    [Fact]
    public void Query_colour_siblings_are_the_seven_other_colours_and_unknown_keys_are_refused()
    {
        var siblings = SkillTaxonomy.AnswerSiblings("query/color=orange");
        Assert.Equal(7, siblings.Count);
        Assert.All(siblings, k => Assert.StartsWith("query/color=", k, StringComparison.Ordinal));
        Assert.DoesNotContain("query/color=orange", siblings);
        Assert.Throws<ArgumentException>(() => SkillTaxonomy.AnswerSiblings("query/shape=hexagon"));
    }

    [Fact]
    public void Program_skills_follow_the_executed_scene()
    {
        var scene = new Scene(
        [
            new SceneObject(ObjectShape.Circle, ObjectColor.Cyan, ObjectSize.Small, 0.2, 0.2),
            new SceneObject(ObjectShape.Square, ObjectColor.Cyan, ObjectSize.Small, 0.5, 0.2),
            new SceneObject(ObjectShape.Square, ObjectColor.Cyan, ObjectSize.Small, 0.8, 0.2),
            new SceneObject(ObjectShape.Diamond, ObjectColor.Blue, ObjectSize.Large, 0.5, 0.7),
        ]);
        Assert.Equal(["count/color=cyan/n=3-4"], ProgramSkills.For(new CountProgram(new ObjectFilter(Color: ObjectColor.Cyan)), scene));
        Assert.Equal(["query/color", "query/color=blue"],
            ProgramSkills.For(new QueryProgram(new ObjectFilter(Size: ObjectSize.Large), ObjectAttribute.Color), scene));
        Assert.Equal(["exist/shape=triangle", "exist/color=cyan"],
            ProgramSkills.For(new ExistProgram(new ObjectFilter(ObjectShape.Triangle, ObjectColor.Cyan)), scene));
        var ex = Assert.Throws<ArgumentException>(() => ProgramSkills.For(new CountProgram(new ObjectFilter(ObjectShape.Square)), scene));
        Assert.Contains("colour", ex.Message);
    }
}
