using FailureSynth.World.Questions;

namespace FailureSynth.World.Tests;

public class MultipleChoiceTests
{
    [Fact]
    public void Colour_choices_always_offer_the_near_pair_colour()
    {
        for (int i = 0; i < 100; i++)
        {
            ChoiceSet cyan = MultipleChoice.Build("cyan", AnswerKind.Color, new DeterministicRandom((ulong)i));
            Assert.Contains("blue", cyan.Options);
            Assert.Equal("cyan", cyan.Options[cyan.CorrectIndex]);
            Assert.InRange(cyan.Options.Count, 3, 5);
        }
    }

    [Fact]
    public void Number_distractors_stay_near_the_answer_and_within_range()
    {
        for (int i = 0; i < 100; i++)
        {
            ChoiceSet zero = MultipleChoice.Build("0", AnswerKind.Number, new DeterministicRandom((ulong)i));
            Assert.All(zero.Options, o => Assert.InRange(int.Parse(o), 0, 3));
            ChoiceSet seven = MultipleChoice.Build("7", AnswerKind.Number, new DeterministicRandom((ulong)i));
            Assert.All(seven.Options, o => Assert.InRange(int.Parse(o), 4, 10));
            Assert.Equal("7", seven.Options[seven.CorrectIndex]);
        }
    }

    [Fact]
    public void Format_lists_lettered_options_after_the_question()
    {
        Assert.Equal("What colour is the square?\nA. red\nB. orange\nC. blue",
            MultipleChoice.Format("What colour is the square?", ["red", "orange", "blue"]));
        Assert.Equal("C", new ChoiceSet(["a", "b", "c"], 2).CorrectLetter);
    }

    [Fact]
    public void Non_canonical_answer_is_rejected_with_the_valid_words()
    {
        var ex = Assert.Throws<ArgumentException>(() => MultipleChoice.Build("teal", AnswerKind.Color, new DeterministicRandom(1)));
        Assert.Contains("'teal'", ex.Message);
        Assert.Contains("cyan", ex.Message);
    }
}
