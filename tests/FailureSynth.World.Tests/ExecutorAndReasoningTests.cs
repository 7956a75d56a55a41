using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Tests;

/// <summary>Executor, decomposition and composition on a hand-built scene whose answers are known.</summary>
public class ExecutorAndReasoningTests
{
    // Two cyan circles (one large), a blue square, a small red triangle on the left, a large orange diamond low on the right.
    private static readonly Scene Known = new(
    [
        new SceneObject(ObjectShape.Circle, ObjectColor.Cyan, ObjectSize.Large, 0.50, 0.20),
        new SceneObject(ObjectShape.Circle, ObjectColor.Cyan, ObjectSize.Small, 0.85, 0.15),
        new SceneObject(ObjectShape.Square, ObjectColor.Blue, ObjectSize.Small, 0.50, 0.50),
        new SceneObject(ObjectShape.Triangle, ObjectColor.Red, ObjectSize.Small, 0.12, 0.60),
        new SceneObject(ObjectShape.Diamond, ObjectColor.Orange, ObjectSize.Large, 0.80, 0.80),
    ]);

    public static TheoryData<QuestionProgram, string> KnownAnswers => new()
    {
        { new ExistProgram(new ObjectFilter(ObjectShape.Circle, ObjectColor.Cyan)), "yes" },
        { new ExistProgram(new ObjectFilter(ObjectShape.Square, ObjectColor.Cyan)), "no" },
        { new CountProgram(new ObjectFilter(Color: ObjectColor.Cyan)), "2" },
        { new CountProgram(new ObjectFilter(ObjectShape.Circle, ObjectColor.Cyan, ObjectSize.Large)), "1" },
        { new CountProgram(new ObjectFilter(Color: ObjectColor.Green)), "0" },
        { new QueryProgram(new ObjectFilter(ObjectShape.Square), ObjectAttribute.Color), "blue" },
        { new QueryProgram(new ObjectFilter(Color: ObjectColor.Orange), ObjectAttribute.Shape), "diamond" },
        { new QueryProgram(new ObjectFilter(ObjectShape.Triangle), ObjectAttribute.Size), "small" },
        { new CompareProgram(new ObjectFilter(Color: ObjectColor.Cyan), new ObjectFilter(Color: ObjectColor.Blue), CountComparison.More), "yes" },
        { new CompareProgram(new ObjectFilter(Color: ObjectColor.Cyan), new ObjectFilter(Color: ObjectColor.Blue), CountComparison.Equal), "no" },
        { new CompareProgram(new ObjectFilter(ObjectShape.Square), new ObjectFilter(ObjectShape.Triangle), CountComparison.Equal), "yes" },
        { new RelateProgram(new ObjectFilter(ObjectShape.Triangle), new ObjectFilter(ObjectShape.Square), SpatialRelation.Left), "yes" },
        { new RelateProgram(new ObjectFilter(ObjectShape.Triangle), new ObjectFilter(ObjectShape.Square), SpatialRelation.Right), "no" },
        { new RelateProgram(new ObjectFilter(ObjectShape.Diamond), new ObjectFilter(ObjectShape.Square), SpatialRelation.Below), "yes" },
        { new RelateProgram(new ObjectFilter(ObjectShape.Diamond), new ObjectFilter(ObjectShape.Square), SpatialRelation.Above), "no" },
        { new SameProgram(new ObjectFilter(ObjectShape.Square), new ObjectFilter(ObjectShape.Triangle), ObjectAttribute.Size), "yes" },
        { new SameProgram(new ObjectFilter(ObjectShape.Square), new ObjectFilter(ObjectShape.Triangle), ObjectAttribute.Color), "no" },
        { new ArithProgram(new ObjectFilter(Color: ObjectColor.Cyan), new ObjectFilter(ObjectShape.Square), ArithOperation.Sum), "3" },
        { new ArithProgram(new ObjectFilter(ObjectShape.Circle), new ObjectFilter(ObjectShape.Square), ArithOperation.Difference), "1" },
    };

    [Theory]
    [MemberData(nameof(KnownAnswers))]
    public void Executor_gives_the_known_answer_and_steps_agree(QuestionProgram program, string expected)
    {
        Assert.Equal(expected, ProgramExecutor.Execute(program, Known));
        IReadOnlyList<ReasoningStep> steps = Reasoning.Decompose(program, Known);
        Assert.Equal(Reasoning.StepCount(program), steps.Count);
        Assert.Equal(expected, steps[^1].Answer);
        Assert.Equal(expected, Reasoning.ComposeAnswer(program, [.. steps.Select(s => s.Answer)]));
        Assert.True(QuestionPhrasing.Paraphrases(program).Count >= 3);
    }

    [Theory]
    [MemberData(nameof(KnownAnswers))]
    public void The_composing_step_is_the_one_whose_question_quotes_earlier_answers(QuestionProgram program, string expected)
    {
        _ = expected;
        // Two sets of earlier answers that differ everywhere: only a step that quotes them changes its question.
        int count = Reasoning.StepCount(program);
        string[] some = [.. Enumerable.Repeat("3", count)], others = [.. Enumerable.Repeat("5", count)];
        var quoting = Enumerable.Range(1, count)
            .Where(k => Reasoning.StepQuestion(program, k, some) != Reasoning.StepQuestion(program, k, others)).ToList();
        Assert.Equal(Reasoning.ComposingStep(program) is { } composing ? [composing] : [], quoting);
    }

    [Fact]
    public void Count_arithmetic_decomposes_into_two_counts_and_a_sum()
    {
        var program = new ArithProgram(new ObjectFilter(Color: ObjectColor.Cyan), new ObjectFilter(ObjectShape.Square), ArithOperation.Sum);
        IReadOnlyList<ReasoningStep> steps = Reasoning.Decompose(program, Known);
        Assert.Equal(
        [
            new ReasoningStep(1, "How many cyan objects are there?", "2", "count"),
            new ReasoningStep(2, "How many squares are there?", "1", "count"),
            new ReasoningStep(3, "What is 2 plus 1?", "3", "arith"),
        ], steps);
    }

    [Fact]
    public void Relate_decomposes_into_positions_on_a_twenty_step_scale()
    {
        var program = new RelateProgram(new ObjectFilter(ObjectShape.Triangle), new ObjectFilter(ObjectShape.Square), SpatialRelation.Left);
        IReadOnlyList<ReasoningStep> steps = Reasoning.Decompose(program, Known);
        Assert.Equal("How far from the left edge is the triangle, on a scale from 0 to 20?", steps[0].Question);
        Assert.Equal("2", steps[0].Answer);
        Assert.Equal("10", steps[1].Answer);
        Assert.Equal("Is 2 less than 10?", steps[2].Question);
    }

    [Fact]
    public void Count_steps_refine_the_description_one_attribute_at_a_time()
    {
        var program = new CountProgram(new ObjectFilter(ObjectShape.Circle, ObjectColor.Cyan, ObjectSize.Large));
        Assert.Equal(
            ["How many circles are there?", "How many cyan circles are there?", "How many large cyan circles are there?"],
            Reasoning.Decompose(program, Known).Select(s => s.Question));
        var colourOnly = new CountProgram(new ObjectFilter(Color: ObjectColor.Cyan));
        Assert.Equal(["How many objects are there?", "How many cyan objects are there?"], Reasoning.Decompose(colourOnly, Known).Select(s => s.Question));
    }

    [Fact]
    public void Compose_answer_uses_only_the_step_answers()
    {
        var compare = new CompareProgram(new ObjectFilter(Color: ObjectColor.Red), new ObjectFilter(Color: ObjectColor.Blue), CountComparison.Fewer);
        Assert.Equal("yes", Reasoning.ComposeAnswer(compare, ["1", "4", "no"]));
        var same = new SameProgram(new ObjectFilter(ObjectShape.Circle), new ObjectFilter(ObjectShape.Square), ObjectAttribute.Color);
        Assert.Equal("no", Reasoning.ComposeAnswer(same, ["cyan", "blue", "yes"]));
        var diff = new ArithProgram(new ObjectFilter(ObjectShape.Circle), new ObjectFilter(ObjectShape.Square), ArithOperation.Difference);
        Assert.Equal("3", Reasoning.ComposeAnswer(diff, ["5", "2", "7"]));
    }

    [Fact]
    public void Compose_answer_rejects_rationales_that_do_not_fit_the_program()
    {
        var compare = new CompareProgram(new ObjectFilter(Color: ObjectColor.Red), new ObjectFilter(Color: ObjectColor.Blue), CountComparison.More);
        var wrongLength = Assert.Throws<ArgumentException>(() => Reasoning.ComposeAnswer(compare, ["1", "2"]));
        Assert.Contains("3 reasoning steps", wrongLength.Message);
        Assert.False(Reasoning.TryComposeAnswer(compare, ["three", "2", "yes"], out _, out string? problem));
        Assert.Contains("Step 1", problem);
        Assert.Contains("\"three\"", problem);
    }

    [Fact]
    public void Ambiguous_definite_description_is_reported_and_refused()
    {
        var program = new QueryProgram(new ObjectFilter(ObjectShape.Circle), ObjectAttribute.Size);
        Assert.Contains(ProgramExecutor.FindProblems(program, Known), p => p.Contains("matches 2 objects"));
        var ex = Assert.Throws<InvalidOperationException>(() => ProgramExecutor.Execute(program, Known));
        Assert.Contains("'the circle'", ex.Message);
    }

    [Fact]
    public void Relation_closer_than_the_margin_is_reported()
    {
        var close = new Scene(
        [
            new SceneObject(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Small, 0.40, 0.2),
            new SceneObject(ObjectShape.Square, ObjectColor.Blue, ObjectSize.Small, 0.45, 0.7),
        ]);
        var program = new RelateProgram(new ObjectFilter(ObjectShape.Circle), new ObjectFilter(ObjectShape.Square), SpatialRelation.Left);
        Assert.Contains(ProgramExecutor.FindProblems(program, close), p => p.Contains("apart"));
        var vertical = program with { Relation = SpatialRelation.Above };
        Assert.Empty(ProgramExecutor.FindProblems(vertical, close));
    }

    [Fact]
    public void Descriptions_that_give_the_answer_away_or_overlap_are_reported()
    {
        Assert.NotEmpty(ProgramExecutor.FindProblems(new QueryProgram(new ObjectFilter(ObjectShape.Square), ObjectAttribute.Shape), Known));
        Assert.NotEmpty(ProgramExecutor.FindProblems(
            new ArithProgram(new ObjectFilter(Color: ObjectColor.Cyan), new ObjectFilter(ObjectShape.Circle), ArithOperation.Sum), Known));
        Assert.NotEmpty(ProgramExecutor.FindProblems(
            new ArithProgram(new ObjectFilter(ObjectShape.Square), new ObjectFilter(ObjectShape.Circle), ArithOperation.Difference), Known));
        Assert.NotEmpty(ProgramExecutor.FindProblems(
            new SameProgram(new ObjectFilter(ObjectShape.Square), new ObjectFilter(ObjectShape.Triangle, ObjectColor.Red), ObjectAttribute.Color), Known));
    }

    [Fact]
    public void Phrases_use_articles_and_plurals_correctly()
    {
        Assert.Equal("an orange square", new ObjectFilter(ObjectShape.Square, ObjectColor.Orange).WithIndefiniteArticle());
        Assert.Equal("a large cyan circle", new ObjectFilter(ObjectShape.Circle, ObjectColor.Cyan, ObjectSize.Large).WithIndefiniteArticle());
        Assert.Equal("small objects", new ObjectFilter(Size: ObjectSize.Small).Phrase(plural: true));
        Assert.Contains("Is there an orange square?", QuestionPhrasing.Paraphrases(new ExistProgram(new ObjectFilter(ObjectShape.Square, ObjectColor.Orange))));
    }
}
