using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Tests;

/// <summary>Reasoning.StepQuestion: later steps phrased from given answers, matching Decompose on exact answers.</summary>
public class StepQuestionTests
{
    [Fact]
    public void Step_questions_from_exact_answers_match_the_decomposition()
    {
        var generator = new WorldGenerator(Profiles.Balanced);
        for (int i = 0; i < 400; i++)
        {
            var sample = generator.Generate(7, i);
            var answers = sample.Steps.Select(s => s.Answer).ToList();
            for (int k = 1; k <= sample.Steps.Count; k++)
                Assert.Equal(sample.Steps[k - 1].Question, Reasoning.StepQuestion(sample.Program, k, answers[..(k - 1)]));
        }
    }

    [Fact]
    public void Later_steps_quote_the_answers_they_are_given()
    {
        var program = new CompareProgram(new ObjectFilter(ObjectShape.Circle), new ObjectFilter(ObjectShape.Square), CountComparison.More);
        Assert.Equal("Is 7 greater than 2?", Reasoning.StepQuestion(program, 3, ["7", "2"]));
        var exist = new ExistProgram(new ObjectFilter(ObjectShape.Circle));
        Assert.Equal("Is 4 greater than 0?", Reasoning.StepQuestion(exist, 2, ["4"]));
    }

    [Fact]
    public void A_step_without_its_earlier_answers_is_rejected()
    {
        var program = new ArithProgram(new ObjectFilter(ObjectShape.Circle), new ObjectFilter(ObjectShape.Square), ArithOperation.Sum);
        Assert.Throws<ArgumentException>(() => Reasoning.StepQuestion(program, 3, ["1"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Reasoning.StepQuestion(program, 4, ["1", "2", "3"]));
    }
}
