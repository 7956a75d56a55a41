namespace FailureSynth.Datasets.Tests;

public sealed class AnswerScoringTests
{
    private static VqaSample Vqa(params string[] humans) =>
        new("1", "val2015/x.png", "How many circles are there?", humans[0], Source: "vqav2", AllAnswers: humans);

    private static string[] Humans(int agreeing, string answer, string other = "3") =>
        [.. Enumerable.Repeat(answer, agreeing), .. Enumerable.Repeat(other, 10 - agreeing)];

    private static readonly VqaSample Choice = new(
        "7", null, "Which shape is red?", "B", Choices: ["circle", "square", "triangle"], AnswerText: "square", Source: "scienceqa");

    [Theory]
    [InlineData("Yes", "yes")]
    [InlineData("  YES  ", "yes")]
    [InlineData("yes.", "yes")]
    [InlineData("2.5", "2.5")]
    [InlineData("it is 2.5.", "it is 2.5")]
    [InlineData("100,978", "100978")]
    [InlineData("red,blue", "red blue")]
    [InlineData("red-blue", "red blue")]
    [InlineData("(circle)", "circle")]
    [InlineData("what?!", "what")]
    [InlineData("2:50 pm", "2:50 pm")]
    [InlineData("girl's", "girl's")]
    [InlineData("two", "2")]
    [InlineData("Ten", "10")]
    [InlineData("none", "0")]
    [InlineData("a circle", "circle")]
    [InlineData("The red square", "red square")]
    [InlineData("an apple", "apple")]
    [InlineData("dont", "don't")]
    [InlineData("isnt it", "isn't it")]
    [InlineData("don\u2019t", "don't")]
    [InlineData("its", "its")]
    [InlineData("well", "well")]
    [InlineData("", "")]
    [InlineData("...", "")]
    public void NormaliseVqa_applies_each_rule_of_the_official_evaluation(string answer, string expected) =>
        Assert.Equal(expected, AnswerScoring.NormaliseVqa(answer));

    [Fact]
    public void NormaliseVqa_is_idempotent_on_what_it_produces()
    {
        foreach (string answer in new[] { "The two red-circles.", "Dont know, 1,000", "it's 2.5 o'clock" })
        {
            string once = AnswerScoring.NormaliseVqa(answer);
            Assert.Equal(once, AnswerScoring.NormaliseVqa(once));
        }
    }

    [Theory]
    [InlineData(10, 1.0)]
    [InlineData(4, 1.0)]
    [InlineData(3, 0.9)]
    [InlineData(2, 0.6)]
    [InlineData(1, 0.3)]
    [InlineData(0, 0.0)]
    public void Vqa_accuracy_is_the_leave_one_out_average_of_min_1_matches_over_3(int agreeing, double expected)
    {
        // Hand-computed: with k of 10 humans agreeing, k subsets leave k-1 matches and 10-k leave k.
        // k=3: (3 * 2/3 + 7 * 1) / 10 = 0.9; k=2: (2 * 1/3 + 8 * 2/3) / 10 = 0.6; k=1: (1 * 0 + 9 * 1/3) / 10 = 0.3.
        var score = AnswerScoring.Score(Vqa(Humans(agreeing, "2")), "two");
        Assert.Equal("vqa-accuracy", score.Rule);
        Assert.Equal(expected, score.Score, 12);
    }

    [Fact]
    public void Vqa_accuracy_normalises_the_prediction_and_the_humans()
    {
        var sample = Vqa("Two.", "2", "two", "3", "3", "3", "3", "3", "3", "3");
        Assert.Equal(0.9, AnswerScoring.Score(sample, "2").Score, 12);
        Assert.Equal(1.0, AnswerScoring.Score(Vqa(Humans(10, "don't know", "x")), "Dont know.").Score, 12);
        Assert.Equal(0.0, AnswerScoring.Score(Vqa(Humans(10, "yes")), "no").Score, 12);
    }

    [Fact]
    public void Vqa_accuracy_with_fewer_than_ten_answers_averages_over_the_answers_there_are()
    {
        // Five answers, two agree: 2 subsets leave 1 match (1/3), 3 subsets leave 2 (2/3): (2/3 + 2) / 5 = 8/15.
        var five = Vqa("red", "red", "blue", "blue", "green");
        Assert.Equal(8.0 / 15, AnswerScoring.Score(five, "red").Score, 12);
        // Leaving out the only answer leaves no one to agree with; the lone answer decides instead.
        Assert.Equal(1.0, AnswerScoring.Score(Vqa("red"), "Red").Score, 12);
        Assert.Equal(0.0, AnswerScoring.Score(Vqa("red"), "blue").Score, 12);
    }

    [Theory]
    [InlineData("B", 1)]
    [InlineData("b", 1)]
    [InlineData(" (B) ", 1)]
    [InlineData("B.", 1)]
    [InlineData("square", 1)]
    [InlineData("Square.", 1)]
    [InlineData("A", 0)]
    [InlineData("(C)", 0)]
    [InlineData("circle", 0)]
    [InlineData("D", 0)]
    [InlineData("", 0)]
    public void Choice_matches_the_correct_letter_or_the_text_of_the_correct_choice(string predicted, int expected)
    {
        var score = AnswerScoring.Score(Choice, predicted);
        Assert.Equal("exact-choice", score.Rule);
        Assert.Equal(expected, score.Score);
    }

    [Fact]
    public void Choice_without_answer_text_uses_the_choice_the_letter_points_at()
    {
        var sample = Choice with { AnswerText = null, Answer = "C" };
        Assert.Equal(1, AnswerScoring.Score(sample, "triangle").Score);
        Assert.Equal(0, AnswerScoring.Score(sample, "square").Score);
    }

    [Fact]
    public void Choice_sample_whose_answer_names_no_choice_is_refused_with_the_sample_id()
    {
        var broken = Choice with { Answer = "hexagon", AnswerText = null };
        var error = Assert.Throws<ArgumentException>(() => AnswerScoring.Score(broken, "A"));
        Assert.Contains("\"7\"", error.Message);
        Assert.Contains("hexagon", error.Message);
    }

    [Theory]
    [InlineData("the square", 1)]
    [InlineData("Square!", 1)]
    [InlineData("a square shape", 0)]
    [InlineData("circle", 0)]
    public void Free_text_is_compared_after_normalisation(string predicted, int expected)
    {
        var sample = new VqaSample("q", null, "What shape is it?", "square", Source: "llava");
        var score = AnswerScoring.Score(sample, predicted);
        Assert.Equal("exact-normalised", score.Rule);
        Assert.Equal(expected, score.Score);
    }

    [Fact]
    public void Rule_follows_the_sample_all_answers_first_then_choices()
    {
        Assert.Equal("vqa-accuracy", AnswerScoring.Score(Vqa("2") with { Choices = ["1", "2"] }, "2").Rule);
        Assert.Equal("exact-choice", AnswerScoring.Score(Choice with { AllAnswers = [] }, "B").Rule);
        Assert.Equal("exact-normalised", AnswerScoring.Score(Choice with { Choices = [] }, "B").Rule);
    }

    [Fact]
    public void Null_input_is_refused()
    {
        Assert.Throws<ArgumentNullException>(() => AnswerScoring.Score(Choice, null!));
        Assert.Throws<ArgumentNullException>(() => AnswerScoring.Score(null!, "B"));
        Assert.Throws<ArgumentNullException>(() => AnswerScoring.NormaliseVqa(null!));
    }
}
