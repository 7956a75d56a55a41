using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Locate;
using FailureSynth.Loop.Teacher;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.Loop.Tests;

public sealed class TeacherAndLocatorTests
{
    internal static readonly EmbeddedTeacher Teacher = new(new EmbeddedTeacherOptions(PriorSamples: 6000));

    // "How many red circles?" asked as a count chain: circles, then red circles.
    private static readonly CountProgram RedCircles = new(new ObjectFilter(ObjectShape.Circle, ObjectColor.Red));

    private static TeacherQuestion Question(QuestionProgram program) => new("question", QuestionKeys.Of(program.Family), program);

    private static StepAnswer Step(int index, string answer) => new(index, $"step {index}", answer, 0.9);

    [Fact]
    public void Scores_are_probabilities_and_a_biased_prior_puts_its_mass_on_the_stated_answer_before_any_step()
    {
        string[] all = [.. Enumerable.Range(0, 9).Select(AnswerWords.Number)];
        var plain = Teacher.Score(Question(RedCircles), all, [], null);
        Assert.All(plain, p => Assert.InRange(p, 0, 1));
        Assert.InRange(plain.Sum(), 0.95, 1.0000001);

        var biased = Teacher.Score(Question(RedCircles), ["3", "1"], [], new BiasedPrior("3", 0.6));
        Assert.Equal(0.6, biased[0], 3);
        Assert.True(biased[1] < 0.4);
    }

    [Fact]
    public void Reading_the_decisive_step_moves_the_probability_to_the_answer_it_implies()
    {
        var prior = new BiasedPrior("1", 0.6);
        var before = Teacher.Score(Question(RedCircles), ["3", "1"], [Step(1, "4")], prior);
        var after = Teacher.Score(Question(RedCircles), ["3", "1"], [Step(1, "4"), Step(2, "3")], prior);
        Assert.True(before[1] > before[0], "with only the circle count read, the gold-biased prior still leads");
        Assert.True(after[0] > 0.6 && after[0] > 3 * after[1], $"after '3 red circles' the answer 3 should dominate, got {after[0]:0.000} vs {after[1]:0.000}");
    }

    [Fact]
    public void The_composing_step_quotes_the_students_own_counts_and_says_nothing_about_the_scene()
    {
        // "How many red objects plus blue circles?": 3 red objects, 2 blue circles, then "What is 3 plus 2?".
        var sum = new ArithProgram(new ObjectFilter(Color: ObjectColor.Red), new ObjectFilter(ObjectShape.Circle, ObjectColor.Blue), ArithOperation.Sum);
        string[] candidates = ["5", "6", "9"];
        var prior = new BiasedPrior("6", 0.6);
        var counts = Teacher.Score(Question(sum), candidates, [Step(1, "3"), Step(2, "2")], prior);
        // Whatever the student's arithmetic says, right (5) or wrong (9, or 6, the gold answer), the counts stand.
        foreach (string said in new[] { "5", "9", "6" })
        {
            var read = Teacher.Score(Question(sum), candidates, [Step(1, "3"), Step(2, "2"), Step(3, said)], prior);
            for (int c = 0; c < candidates.Length; c++)
                Assert.Equal(counts[c], read[c], 12);
        }
        // The counts themselves are read: after them the answer they imply leads the gold-biased prior.
        Assert.True(counts[0] > counts[1], $"after 3 and 2, 5 should lead 6, got {counts[0]:0.000} vs {counts[1]:0.000}");
    }

    [Fact]
    public async Task Answer_switch_locates_the_step_where_the_wrong_answer_takes_over()
    {
        // Gold: 1 red circle. The student counted 4 circles (plausible) and then 3 red circles (wrong): answer 3.
        var failure = new Failure("f1", "s1", Question(RedCircles), "1", "3", [Step(1, "4"), Step(2, "3")], ["count/color=red/n=1-2"]);
        var located = await new AnswerSwitchLocator(Teacher, bias: 0.6, delta: 0.1, lambda: 1).LocateAsync(failure, default);
        Assert.Equal(2, located.Index);
        Assert.False(located.Fallback);
        Assert.Equal(3, located.Margins!.Count);
        Assert.True(located.Margins[2] > 0.1 && located.Margins[0] < 0);
    }

    [Fact]
    public async Task Answer_switch_catches_a_first_step_that_already_rules_out_the_gold_answer()
    {
        // Gold: 2 red circles, but the student says there is only 1 circle at all: 2 is now impossible.
        var failure = new Failure("f2", "s2", Question(RedCircles), "2", "1", [Step(1, "1"), Step(2, "1")], []);
        var located = await new AnswerSwitchLocator(Teacher, 0.6, 0.1, 1).LocateAsync(failure, default);
        Assert.Equal(1, located.Index);
    }

    [Theory]
    [InlineData(0.0, 0.1, 1)]
    [InlineData(1.0, 0.1, 1)]
    [InlineData(0.6, -0.1, 1)]
    [InlineData(0.6, 0.1, 0)]
    public void Answer_switch_rejects_parameters_outside_their_range(double bias, double delta, int lambda) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new AnswerSwitchLocator(Teacher, bias, delta, lambda));

    [Fact]
    public async Task Prompt_per_step_keeps_its_own_prior_when_created_with_answer_switchs_bias()
    {
        // Gold: 1 red circle. "4 circles" says nothing against it; "3 red circles" does.
        var failure = new Failure("f5", "s5", Question(RedCircles), "1", "3", [Step(1, "4"), Step(2, "3")], []);
        // At a bias of 0.1 the gold answer would look more likely wrong than right before any step is read,
        // and step 1 would be named for that reason alone.
        var located = await Locators.Create("prompt-per-step", Teacher, bias: 0.1, delta: 0, lambda: 1, seed: 1).LocateAsync(failure, default);
        Assert.Equal(2, located.Index);
        Assert.False(located.Fallback);
        Assert.True(located.Margins![0] >= 0.5 && located.Margins[1] < 0.5, $"plausibility {located.Margins[0]:0.000}, {located.Margins[1]:0.000}");
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void Prompt_per_step_refuses_a_prior_that_makes_every_step_look_wrong(double bias) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PromptPerStepLocator(Teacher, bias));

    [Fact]
    public async Task Every_locator_returns_a_step_of_the_rationale_and_is_deterministic()
    {
        var generator = new WorldGenerator(Profiles.Balanced);
        IStepLocator[] locators = [new RandomStepLocator(5), new PromptPerStepLocator(Teacher), new PseudoRationaleLocator(Teacher), new AnswerSwitchLocator(Teacher)];
        for (int i = 0; i < 40; i++)
        {
            var sample = generator.Generate(3, i);
            // A wrong rationale: every numeric step off by one, every word step replaced.
            var steps = sample.Steps.Select(s => new StepAnswer(s.Index, s.Question,
                AnswerWords.TryParseNumber(s.Answer, out int v) ? AnswerWords.Number(v + 1) : s.Answer == "yes" ? "no" : "gray", 0.5)).ToList();
            var failure = new Failure($"f{i}", sample.Id, new TeacherQuestion(sample.Question, sample.Family, sample.Program), sample.ShortAnswer, "x", steps, sample.Skills);
            foreach (var locator in locators)
            {
                var a = (await locator.LocateAsync(failure, default));
                var b = (await locator.LocateAsync(failure, default));
                Assert.InRange(a.Index, 1, steps.Count);
                Assert.Equal(a, b with { Margins = a.Margins });
                Assert.Equal(steps[a.Index - 1].Question, a.Question);
            }
        }
    }

    [Fact]
    public async Task A_failure_without_a_rationale_is_refused_with_a_clear_message()
    {
        var failure = new Failure("f3", "s3", Question(RedCircles), "1", "3", [], []);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => new AnswerSwitchLocator(Teacher).LocateAsync(failure, default));
        Assert.Contains("no reasoning steps", e.Message);
    }

    [Fact]
    public void The_oracle_names_the_first_step_whose_answer_differs_from_the_scene()
    {
        var scene = new Scene([
            new SceneObject(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Small, 0.2, 0.2),
            new SceneObject(ObjectShape.Circle, ObjectColor.Blue, ObjectSize.Small, 0.6, 0.6)]);
        Assert.Equal(0, Oracle.FirstWrongStep(RedCircles, scene, [Step(1, "2"), Step(2, "1")]));
        Assert.Equal(1, Oracle.FirstWrongStep(RedCircles, scene, [Step(1, "3"), Step(2, "1")]));
        Assert.Equal(2, Oracle.FirstWrongStep(RedCircles, scene, [Step(1, "2"), Step(2, "0")]));
    }

    [Fact]
    public async Task Diagnosis_names_a_taxonomy_skill_for_the_located_step()
    {
        var failure = new Failure("f4", "s4", Question(new CountProgram(new ObjectFilter(Color: ObjectColor.Cyan))), "5", "3", [Step(1, "6"), Step(2, "3")], []);
        var diagnosis = (await Teacher.DiagnoseSkillAsync(failure, new LocatedStep(2, "How many cyan objects are there?", "3", "answer-switch", false), default));
        Assert.Equal("count/color=cyan/n>=5", diagnosis.SkillKey);
        Assert.Contains("cyan", diagnosis.Text);
        Assert.Equal("relate/above", TeacherSkills.Match("Is the red circle above the blue square? which object is higher"));
    }

    [Fact]
    public async Task A_request_no_skill_text_matches_still_gets_proposals_for_one_fixed_guessed_skill()
    {
        var request = new SkillDiagnosis("What is 8 minus 8?", null);
        Assert.Null(TeacherSkills.Match(request.Text));
        var first = await Teacher.ProposeAsync(request, null, 5, 1, default);
        var second = await Teacher.ProposeAsync(request, null, 5, 1, default);
        Assert.Equal(5, first.Count);
        Assert.Single(first.Select(p => p.SkillKey).Distinct());
        Assert.Equal(first.Select(p => p.Id), second.Select(p => p.Id));
        Assert.Equal(TeacherSkills.Guess(request.Text), first[0].SkillKey);
    }
}
