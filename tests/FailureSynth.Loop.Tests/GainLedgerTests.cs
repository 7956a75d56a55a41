using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Stages;

namespace FailureSynth.Loop.Tests;

public class GainLedgerTests
{
    private static readonly IReadOnlyDictionary<string, SkillStanding> Empty = new Dictionary<string, SkillStanding>(StringComparer.Ordinal);

    private static Dictionary<string, T> Of<T>(params (string Key, T Value)[] entries) => entries.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);

    private static DiagnosedFailure D(string id, string skill) => new(
        new Failure(id, id, new TeacherQuestion("q", "relate", null), "yes", "no", [], []),
        new LocatedStep(1, $"step of {skill}", "3", "answer-switch", false), new SkillDiagnosis(skill + " text", skill));

    [Fact]
    public void A_skill_that_got_data_and_did_not_improve_is_escalated_then_given_up_as_flat_with_its_evidence()
    {
        var samples = Of(("relate/above", 150), ("query/color=cyan", 200), ("arith/sum", 5));
        var first = GainLedger.Update(Empty, 1, samples,
            Of(("relate/above", 0.50), ("query/color=cyan", 0.60), ("arith/sum", 0.70)),
            Of(("relate/above", 0.52), ("query/color=cyan", 0.80), ("arith/sum", 0.70)));
        Assert.Equal(SkillCourse.Escalated, first["relate/above"].Course);
        Assert.Contains("150 samples in iteration 1: +2.0 points (50.0 % -> 52.0 %)", first["relate/above"].Reason);
        Assert.Equal(SkillCourse.Standard, first["query/color=cyan"].Course);
        Assert.False(first.ContainsKey("arith/sum")); // 5 samples are no evidence either way
        Assert.Equal(GainLedger.EscalatedWeight, GainLedger.Weight(first, "relate/above"));

        var second = GainLedger.Update(first, 2, Of(("relate/above", 300), ("query/color=cyan", 100)),
            Of(("relate/above", 0.52), ("query/color=cyan", 0.80)), Of(("relate/above", 0.51), ("query/color=cyan", 0.86)));
        var above = second["relate/above"];
        Assert.Equal(SkillCourse.Flat, above.Course);
        Assert.Equal([150, 300], above.History.Select(h => h.Samples));
        Assert.Contains("150 samples in iteration 1 gave +2.0 points, 300 samples in iteration 2 gave -1.0 points", above.Reason);
        Assert.Equal(0, GainLedger.Weight(second, "relate/above"));
        Assert.Equal(1, GainLedger.Weight(second, "query/color=cyan"));

        // A flat skill that rises without its own data gets data again.
        var third = GainLedger.Update(second, 3, Of(("query/color=cyan", 100)), Of(("relate/above", 0.51), ("query/color=cyan", 0.86)), Of(("relate/above", 0.60), ("query/color=cyan", 0.88)));
        Assert.Equal(SkillCourse.Standard, third["relate/above"].Course);
    }

    [Fact]
    public void An_escalated_skill_that_then_improves_returns_to_the_standard_course_and_a_mastered_one_is_never_escalated()
    {
        var first = GainLedger.Update(Empty, 1, Of(("relate/below", 100), ("query/size=large", 100)),
            Of(("relate/below", 0.5), ("query/size=large", 0.99)), Of(("relate/below", 0.5), ("query/size=large", 0.985)));
        Assert.Equal(SkillCourse.Escalated, first["relate/below"].Course);
        Assert.Equal(SkillCourse.Standard, first["query/size=large"].Course);
        var second = GainLedger.Update(first, 2, Of(("relate/below", 200)), Of(("relate/below", 0.5)), Of(("relate/below", 0.7)));
        Assert.Equal(SkillCourse.Standard, second["relate/below"].Course);
    }

    private static List<(string?, int)> Shape(IEnumerable<SkillDemand> demands) => [.. demands.Select(d => (d.SkillKey, d.Count))];

    [Fact]
    public void The_planner_moves_a_flat_skills_budget_to_the_others_and_doubles_an_escalated_one()
    {
        var failures = new[] { D("a", "relate/above"), D("b", "relate/above"), D("c", "arith/diff"), D("d", "arith/diff") };
        var even = DemandPlanner.Plan(failures, 100);
        Assert.Equal(50, even.Single(d => d.SkillKey == "relate/above").Count);
        Assert.Equal(Shape(even), Shape(DemandPlanner.Plan(failures, 100, weight: _ => 1)));

        var doubled = DemandPlanner.Plan(failures, 90, weight: s => s == "relate/above" ? 2 : 1);
        Assert.Equal(60, doubled.Single(d => d.SkillKey == "relate/above").Count);
        Assert.Equal(30, doubled.Single(d => d.SkillKey == "arith/diff").Count);

        var flat = DemandPlanner.Plan(failures, 100, weight: s => s == "relate/above" ? 0 : 1);
        Assert.Equal(100, flat.Single().Count);
        Assert.Equal("arith/diff", flat.Single().SkillKey);

        // Every skill flat: nowhere better to send the budget, so it is planned as without weights.
        Assert.Equal(Shape(even), Shape(DemandPlanner.Plan(failures, 100, weight: _ => 0)));
    }

    [Fact]
    public void An_iteration_with_data_for_an_escalated_skill_fine_tunes_longer()
    {
        var standings = GainLedger.Update(Empty, 1, Of(("relate/above", 100)), Of(("relate/above", 0.5)), Of(("relate/above", 0.5)));
        SkillDemand Demand(string skill) => new(skill, skill, 10, []);
        Assert.Equal(450, GainLedger.Steps(300, standings, [Demand("relate/above"), Demand("arith/sum")]));
        Assert.Equal(300, GainLedger.Steps(300, standings, [Demand("arith/sum")]));
    }
}
