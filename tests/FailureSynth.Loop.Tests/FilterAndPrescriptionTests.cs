using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Teacher;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.Loop.Tests;

public sealed class FilterAndPrescriptionTests
{
    private static EmbeddedTeacher Teacher => TeacherAndLocatorTests.Teacher;

    [Fact]
    public void A_uniform_share_spreads_part_of_the_budget_over_every_skill_and_the_rest_by_failures()
    {
        DiagnosedFailure D(string id, string skill) => new(
            new Failure(id, id, new TeacherQuestion("q", "count", null), "1", "2", [], []),
            new LocatedStep(1, "step", "2", "answer-switch", false), new SkillDiagnosis(skill, skill));
        var failures = new[] { D("a", "relate/above"), D("b", "relate/above"), D("c", "arith/sum") };
        var mixed = DemandPlanner.PlanWithUniform(failures, 1000, 0.5);
        Assert.Equal(1000, mixed.Sum(d => d.Count));
        var targeted = mixed.Where(d => d.FailureIds.Count > 0).ToList();
        Assert.Equal(500, targeted.Sum(d => d.Count));
        Assert.Equal([333, 167], targeted.Select(d => d.Count).OrderDescending());
        var uniform = mixed.Where(d => d.FailureIds.Count == 0).ToList();
        Assert.Equal(World.Skills.SkillTaxonomy.All.Count, uniform.Count);
        Assert.InRange(uniform.Max(d => d.Count) - uniform.Min(d => d.Count), 0, 1);
        // Off is the plan by failures alone.
        Assert.Equal(DemandPlanner.Plan(failures, 1000).Select(d => (d.SkillKey, d.Count)), DemandPlanner.PlanWithUniform(failures, 1000, 0).Select(d => (d.SkillKey, d.Count)));
        Assert.Throws<ArgumentOutOfRangeException>(() => DemandPlanner.PlanWithUniform(failures, 1000, 1));
    }

    [Fact]
    public void Seven_out_of_ten_and_ties_go_to_the_first_skill_in_key_order()
    {
        DiagnosedFailure D(string id, string skill) => new(
            new Failure(id, id, new TeacherQuestion("q", "count", null), "1", "2", [], []),
            new LocatedStep(1, "step", "2", "answer-switch", false), new SkillDiagnosis(skill, skill));
        var demands = DemandPlanner.Plan([D("a", "relate/above"), D("b", "relate/above"), D("c", "relate/above"), D("d", "arith/sum")], 10);
        Assert.Equal(3, demands.Single(d => d.SkillKey == "arith/sum").Count);
        Assert.Equal(7, demands.Single(d => d.SkillKey == "relate/above").Count);
    }

    private static SampleProposal Proposal(string id, Scene scene, QuestionProgram program, string answer, string? skill = "count/color=red/n=1-2") =>
        new(id, skill, scene, null, "How many red objects are there?", answer, [], program);

    private static readonly Scene TwoApart = new([
        new SceneObject(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Small, 0.25, 0.25),
        new SceneObject(ObjectShape.Square, ObjectColor.Blue, ObjectSize.Small, 0.75, 0.75)]);

    private static readonly CountProgram RedObjects = new(new ObjectFilter(Color: ObjectColor.Red));

    private static (IReadOnlyList<AcceptedSample>, IReadOnlyList<FilterVerdict>) Filter(IReadOnlyList<SampleProposal> proposals, FilterOptions? options = null, IDuplicateRegistry? registry = null) =>
        new QualityFilter(Teacher, options ?? new FilterOptions()).FilterAsync(proposals, registry ?? new InMemoryDuplicateRegistry(), new Dictionary<string, int>(), null, default).Result;

    [Fact]
    public void A_correct_clear_proposal_is_accepted_with_its_verified_answer_and_exact_rationale()
    {
        var (accepted, verdicts) = Filter([Proposal("p1", TwoApart, RedObjects, "1")]);
        var a = Assert.Single(accepted);
        Assert.Equal(FilterReason.Accepted, Assert.Single(verdicts).Reason);
        Assert.Equal("1", a.Verdict.VerifiedAnswer);
        Assert.Equal(3, a.Verdict.JudgeScore);
        Assert.Equal(Reasoning.Decompose(RedObjects, TwoApart).Select(s => s.Answer), a.Steps.Select(s => s.Answer));
    }

    [Fact]
    public void Each_kind_of_bad_proposal_is_rejected_with_its_reason_and_the_good_ones_are_kept()
    {
        var touching = new Scene([
            new SceneObject(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Small, 0.30, 0.5),
            new SceneObject(ObjectShape.Circle, ObjectColor.Blue, ObjectSize.Small, 0.461, 0.5)]); // gap 0.011: legal, but hard to read
        var outside = new Scene([new SceneObject(ObjectShape.Circle, ObjectColor.Red, ObjectSize.Small, 1.5, 0.5)]);
        var proposals = new List<SampleProposal>
        {
            Proposal("a-wrong", TwoApart, RedObjects, "2"),
            Proposal("b-schema", outside, RedObjects, "1"),
            Proposal("c-skill", TwoApart, RedObjects, "1", skill: "count/colour=red"),
            Proposal("d-judge", touching, RedObjects, "1"),
            Proposal("e-good", TwoApart, RedObjects, "1"),
            Proposal("f-duplicate", TwoApart, RedObjects, "1"),
            Proposal("g-noscene", TwoApart, RedObjects, "1") with { Scene = null },
        };
        var (accepted, verdicts) = Filter(proposals);
        Assert.Equal(["e-good"], accepted.Select(a => a.Proposal.Id));
        var byId = verdicts.ToDictionary(v => v.ProposalId, v => v);
        Assert.Equal(FilterReason.WrongAnswer, byId["a-wrong"].Reason);
        Assert.Contains("program gives '1'", byId["a-wrong"].Detail);
        Assert.Equal(FilterReason.Schema, byId["b-schema"].Reason);
        Assert.Contains("outside the unit square", byId["b-schema"].Detail);
        Assert.Equal(FilterReason.Schema, byId["c-skill"].Reason);
        Assert.Contains("unknown skill key", byId["c-skill"].Detail);
        Assert.Equal(FilterReason.JudgeScore, byId["d-judge"].Reason);
        Assert.Equal(2, byId["d-judge"].JudgeScore);
        Assert.Equal(FilterReason.Duplicate, byId["f-duplicate"].Reason);
        Assert.Equal(FilterReason.Schema, byId["g-noscene"].Reason);
        Assert.Equal(proposals.Count, verdicts.Count);
    }

    [Fact]
    public void The_judge_threshold_and_the_per_skill_cap_are_applied()
    {
        var generator = new WorldGenerator(Profiles.Balanced);
        var samples = generator.SampleForSkill("count/color=red/n=1-2", 6, 4);
        var proposals = samples.Select((s, i) => new SampleProposal($"p{i}", "count/color=red/n=1-2", s.Scene, null, s.Question, s.Answer, [], s.Program)).ToList();
        var (accepted, verdicts) = Filter(proposals, new FilterOptions(JudgeThreshold: 1, PerSkillCap: 4));
        Assert.Equal(4, accepted.Count);
        Assert.Equal(2, verdicts.Count(v => v.Reason == FilterReason.SkillCap));
    }

    [Fact]
    public void The_duplicate_registry_is_shared_across_filter_runs()
    {
        var registry = new InMemoryDuplicateRegistry();
        Assert.Single(Filter([Proposal("x", TwoApart, RedObjects, "1")], registry: registry).Item1);
        var (accepted, verdicts) = Filter([Proposal("y", TwoApart, RedObjects, "1")], registry: registry);
        Assert.Empty(accepted);
        Assert.Equal(FilterReason.Duplicate, verdicts[0].Reason);
    }

    [Fact]
    public async Task Proposals_for_a_skill_exercise_it_and_some_carry_wrong_answers_that_the_filter_catches()
    {
        var noisy = new EmbeddedTeacher(new EmbeddedTeacherOptions(ProposalNoise: 0.3, PriorSamples: 1000));
        var proposals = (await noisy.ProposeAsync(new SkillDiagnosis("", "relate/above"), null, 60, 9, default));
        Assert.Equal(60, proposals.Count);
        Assert.All(proposals, p => Assert.Equal("relate/above", p.SkillKey));
        int wrong = proposals.Count(p => ProgramExecutor.Execute(p.Program!, p.Scene!) != p.Answer);
        Assert.InRange(wrong, 8, 30);
        var (accepted, verdicts) = await new QualityFilter(noisy, new FilterOptions(JudgeThreshold: 1)).FilterAsync(proposals, new InMemoryDuplicateRegistry(), new Dictionary<string, int>(), null, default);
        Assert.Equal(wrong, verdicts.Count(v => v.Reason == FilterReason.WrongAnswer));
        Assert.All(accepted, a => Assert.Contains("relate/above", a.Skills));
    }

    [Fact]
    public void Demand_planning_splits_the_budget_by_failure_counts_and_sums_to_it()
    {
        DiagnosedFailure D(string id, string skill) => new(
            new Failure(id, id, new TeacherQuestion("q", "count", null), "1", "2", [], []),
            new LocatedStep(1, $"step of {skill}", "2", "answer-switch", false), new SkillDiagnosis(skill + " text", skill));
        var failures = new[] { D("a", "relate/above"), D("b", "relate/above"), D("c", "relate/above"), D("d", "arith/sum") };
        var demands = DemandPlanner.Plan(failures, 12);
        Assert.Equal(12, demands.Sum(d => d.Count));
        Assert.Equal(9, demands.Single(d => d.SkillKey == "relate/above").Count);
        Assert.Equal(["a", "b", "c"], demands.Single(d => d.SkillKey == "relate/above").FailureIds);
        var raw = DemandPlanner.Plan(failures, 10, useDiagnosis: false);
        Assert.All(raw, d => Assert.Null(d.SkillKey));
        Assert.Contains(raw, d => d.Query == "step of relate/above");
    }

    [Fact]
    public void Contrast_moves_a_share_of_an_answer_pinning_skill_to_its_other_answers_and_keeps_the_total()
    {
        DiagnosedFailure D(string id, string skill) => new(
            new Failure(id, id, new TeacherQuestion("q", "query", null), "diamond", "square", [], []),
            new LocatedStep(1, "step", "square", "answer-switch", false), new SkillDiagnosis(skill + " text", skill));
        var failures = new[] { D("a", "query/shape=diamond"), D("b", "query/shape=diamond"), D("c", "query/shape=diamond"), D("d", "relate/above") };

        var demands = DemandPlanner.Plan(failures, 100, contrast: 0.25);

        Assert.Equal(100, demands.Sum(d => d.Count));
        Assert.Equal(25, demands.Single(d => d.SkillKey == "relate/above").Count); // yes/no skill: no siblings, untouched
        Assert.Equal(56, demands.Single(d => d.SkillKey == "query/shape=diamond").Count); // 75 - round(18.75)
        var contrast = demands.Where(d => d.Query.Contains("(contrast for query/shape=diamond)", StringComparison.Ordinal)).ToList();
        Assert.Equal(["query/shape=circle", "query/shape=square", "query/shape=triangle"], contrast.Select(d => d.SkillKey).Order(StringComparer.Ordinal));
        // The student read the three diamonds as squares: weights 1 + confusions = circle 1, square 4, triangle 1 of 19.
        Assert.Equal([3, 13, 3], contrast.Select(d => d.Count));
        Assert.All(contrast, d => Assert.Equal(["a", "b", "c"], d.FailureIds));
        Assert.Equal(demands.Count, demands.Select(d => d.Query).Distinct(StringComparer.Ordinal).Count());

        Assert.Equal(DemandPlanner.Plan(failures, 100), DemandPlanner.Plan(failures, 100, contrast: 0), new DemandComparer());
        Assert.Throws<ArgumentOutOfRangeException>(() => DemandPlanner.Plan(failures, 100, contrast: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DemandPlanner.Plan(failures, 100, contrast: double.NaN));
    }

    [Fact]
    public void Without_confusions_the_contrast_is_split_evenly()
    {
        var result = DemandPlanner.WithContrast([new SkillDemand("q", "query/shape=diamond", 76, ["f"])], 0.25);
        Assert.Equal([57, 7, 6, 6], result.Select(d => d.Count));
    }

    [Theory]
    [InlineData("query/color=cyan", "blue", "query/color=blue")]
    [InlineData("query/shape=diamond", "square", "query/shape=square")]
    [InlineData("count/color=cyan/n>=5", "3", "count/color=cyan/n=3-4")]
    [InlineData("count/color=cyan/n>=5", "0", "count/color=cyan/n=0")]
    [InlineData("count/color=cyan/n>=5", "7", null)]          // its own bucket
    [InlineData("query/color=cyan", "cyan", null)]            // its own value
    [InlineData("query/color=cyan", "square", null)]          // another attribute's word
    [InlineData("query/color=cyan", "Blue ", null)]           // not a canonical answer
    [InlineData("count/color=cyan/n>=5", "-1", null)]
    [InlineData("count/color=cyan/n>=5", "yes", null)]
    [InlineData("relate/above", "no", null)]                  // pins no answer
    [InlineData("not/a-skill", "blue", null)]
    public void A_wrong_answer_names_the_sibling_it_falls_in(string skill, string answer, string? sibling) =>
        Assert.Equal(sibling, DemandPlanner.SiblingOfAnswer(skill, answer));

    [Fact]
    public void Contrast_leaves_at_least_one_sample_for_the_diagnosed_skill()
    {
        var single = new[] { new SkillDemand("q", "count/color=cyan/n>=5", 2, ["f"]) };
        var result = DemandPlanner.WithContrast(single, 0.9);
        Assert.Equal(1, result.Single(d => d.SkillKey == "count/color=cyan/n>=5").Count);
        Assert.Equal(2, result.Sum(d => d.Count));
        Assert.StartsWith("count/color=cyan/", result.Single(d => d.SkillKey != "count/color=cyan/n>=5").SkillKey, StringComparison.Ordinal);
    }

    private sealed class DemandComparer : IEqualityComparer<SkillDemand>
    {
        public bool Equals(SkillDemand? x, SkillDemand? y) =>
            x is not null && y is not null && x.Query == y.Query && x.SkillKey == y.SkillKey && x.Count == y.Count && x.FailureIds.SequenceEqual(y.FailureIds);

        public int GetHashCode(SkillDemand obj) => HashCode.Combine(obj.Query, obj.SkillKey, obj.Count);
    }

    [Fact]
    public async Task The_support_pool_retrieves_samples_of_the_requested_skill_without_repeats()
    {
        var pool = await SupportPool.BuildAsync(Teacher, "balanced", 3000, 21, 1.2, 0.75, null, default);
        Assert.Equal(3000, pool.Samples.Count);
        var demands = new[]
        {
            new SkillDemand(TeacherSkills.SkillText("relate/above"), "relate/above", 20, []),
            new SkillDemand(TeacherSkills.SkillText("query/color=cyan"), "query/color=cyan", 10, []),
        };
        var hits = pool.Retrieve(demands);
        Assert.Equal(30, hits.Count);
        Assert.Equal(hits.Count, hits.Select(h => h.Sample.Id).Distinct().Count());
        Assert.All(hits.Where(h => h.Demand.SkillKey == "relate/above"), h => Assert.Contains("relate/above", h.Sample.Skills));
        Assert.All(hits.Where(h => h.Demand.SkillKey == "query/color=cyan"), h => Assert.Contains("query/color=cyan", h.Sample.Skills));
        var random = pool.Random(50, 3);
        Assert.Equal(50, random.Select(s => s.Id).Distinct().Count());
        Assert.Equal(random.Select(s => s.Id), pool.Random(50, 3).Select(s => s.Id));
        Assert.True(SkillTaxonomy.Contains("relate/above"));
    }
}
