using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.World.Tests;

/// <summary>
/// Each profile's declared weights are the frequencies its 10,000 corpus samples show, within
/// five binomial standard deviations.
/// </summary>
public class ProfileFrequencyTests
{
    public static TheoryData<string> ProfileNames => [.. Profiles.Names];

    [Theory]
    [MemberData(nameof(ProfileNames))]
    public void Family_frequencies_match_declared_weights(string name)
    {
        Profile profile = Profiles.Get(name);
        var samples = Corpus.Of(name);
        AssertFrequencies(samples, s => s.Program.Family, profile.Families, "family");
    }

    [Theory]
    [MemberData(nameof(ProfileNames))]
    public void Count_target_colours_and_count_buckets_match_declared_weights(string name)
    {
        Profile profile = Profiles.Get(name);
        var counts = Corpus.Of(name).Where(s => s.Program is CountProgram).ToList();
        AssertFrequencies(counts, s => ((CountProgram)s.Program).Target.Color!.Value, profile.Colors, "count target colour");
        AssertFrequencies(counts, s => CountBuckets.Of(int.Parse(s.ShortAnswer)), profile.Counts, "count answer bucket");
        var ariths = Corpus.Of(name).Where(s => s.Program is ArithProgram).ToList();
        AssertFrequencies(ariths, s => CountBuckets.Of(int.Parse(s.ShortAnswer)), profile.Counts, "arith answer bucket");
    }

    [Theory]
    [MemberData(nameof(ProfileNames))]
    public void Relations_attributes_and_operations_match_declared_weights(string name)
    {
        Profile profile = Profiles.Get(name);
        var samples = Corpus.Of(name);
        AssertFrequencies([.. samples.Where(s => s.Program is RelateProgram)], s => ((RelateProgram)s.Program).Relation, profile.Relations, "relation");
        AssertFrequencies([.. samples.Where(s => s.Program is QueryProgram)], s => ((QueryProgram)s.Program).Attribute, profile.QueryAttributes, "queried attribute");
        AssertFrequencies([.. samples.Where(s => s.Program is SameProgram)], s => ((SameProgram)s.Program).Attribute, profile.SameAttributes, "compared attribute");
        AssertFrequencies([.. samples.Where(s => s.Program is CompareProgram)], s => ((CompareProgram)s.Program).Comparison, profile.Comparisons, "comparison");
        AssertFrequencies([.. samples.Where(s => s.Program is ArithProgram)], s => ((ArithProgram)s.Program).Operation, profile.ArithOperations, "arith operation");
        var colourQueries = samples.Where(s => s.Program is QueryProgram { Attribute: ObjectAttribute.Color }).ToList();
        AssertFrequencies(colourQueries, s => s.Scene.Objects.Single(((QueryProgram)s.Program).Target.Matches).Color, profile.Colors, "queried colour");
    }

    [Theory]
    [MemberData(nameof(ProfileNames))]
    public void Yes_no_answers_are_balanced_as_declared(string name)
    {
        Profile profile = Profiles.Get(name);
        var binary = Corpus.Of(name).Where(s => s.Program.AnswerKind == AnswerKind.YesNo).ToList();
        foreach (var family in binary.GroupBy(s => s.Family))
            AssertWithinSigma(family.Count(s => s.ShortAnswer == "yes"), family.Count(), profile.YesProbability, $"yes answers of {family.Key}");
    }

    [Fact]
    public void Base_skewed_rare_skills_are_rare_but_present_and_common_skills_well_covered()
    {
        var skills = Corpus.Of(Profiles.BaseSkewedName).SelectMany(s => s.Skills).GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count());
        int Of(string key) => skills.GetValueOrDefault(key);
        Assert.InRange(Of("relate/above") + Of("relate/below"), 1, Of("relate/left") / 10);
        Assert.InRange(Of("arith/diff"), 1, Of("arith/sum") / 10);
        Assert.InRange(Of("same/size"), 1, Of("same/color") / 10);
        Assert.True(Of("relate/left") > 500 && Of("arith/sum") > 500 && Of("same/color") > 300, "common skills need good coverage");
        var balanced = Corpus.Of(Profiles.BalancedName).SelectMany(s => s.Skills).ToHashSet();
        Assert.Equal(SkillTaxonomy.All.Count, SkillTaxonomy.All.Count(k => balanced.Contains(k.Key)));
    }

    [Fact]
    public void Base_skewed_declares_rare_weights_between_one_and_three_percent_of_common_ones()
    {
        Profile p = Profiles.BaseSkewed;
        double[] ratios =
        [
            p.Colors.Weight(ObjectColor.Cyan) / p.Colors.Weight(ObjectColor.Blue),
            p.Colors.Weight(ObjectColor.Orange) / p.Colors.Weight(ObjectColor.Red),
            p.Relations.Weight(SpatialRelation.Above) / p.Relations.Weight(SpatialRelation.Left),
            p.Relations.Weight(SpatialRelation.Below) / p.Relations.Weight(SpatialRelation.Right),
            p.ArithOperations.Weight(ArithOperation.Difference) / p.ArithOperations.Weight(ArithOperation.Sum),
            p.Counts.Weight(CountBucket.FiveOrMore) / p.Counts.Weight(CountBucket.OneToTwo),
            p.SameAttributes.Weight(ObjectAttribute.Size) / p.SameAttributes.Weight(ObjectAttribute.Color),
        ];
        Assert.All(ratios, r => Assert.InRange(r, 0.01, 0.03));
        foreach (string rare in new[] { "cyan", "orange", "above", "below", "diff", "n>=5", "same/size" })
            Assert.Contains(rare, p.Description);
        Assert.All(Profiles.Balanced.Colors.Entries, e => Assert.Equal(1.0 / 8, Profiles.Balanced.Colors.Probability(e.Value), 12));
    }

    private static void AssertFrequencies<T>(IReadOnlyList<WorldSample> samples, Func<WorldSample, T> value, WeightTable<T> declared, string what)
        where T : struct, Enum
    {
        Assert.True(samples.Count > 100, $"too few samples ({samples.Count}) to check {what} frequencies");
        foreach ((T v, _) in declared.Entries)
            AssertWithinSigma(samples.Count(s => value(s).Equals(v)), samples.Count, declared.Probability(v), $"{what} {v}");
    }

    private static void AssertWithinSigma(int observed, int total, double p, string what)
    {
        double expected = total * p;
        double sigma = Math.Sqrt(total * p * (1 - p));
        Assert.True(Math.Abs(observed - expected) <= 5 * sigma,
            $"{what}: observed {observed} of {total}, expected {expected:0.0} ± {5 * sigma:0.0} (5 sigma)");
    }
}
