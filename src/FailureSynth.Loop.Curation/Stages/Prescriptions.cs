using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Teacher;
using FailureSynth.Retrieval;
using FailureSynth.World;
using FailureSynth.World.Skills;

namespace FailureSynth.Loop.Stages;

/// <summary>A failure after locate and diagnose: the input of prescription.</summary>
public sealed record DiagnosedFailure(Failure Failure, LocatedStep Step, SkillDiagnosis Diagnosis);

/// <summary>A prescribed training sample with where it came from.</summary>
/// <param name="Source">"synthesised" or "retrieved" (or "random-natural"/"random-synthetic" in baselines).</param>
public sealed record PrescribedSample(AcceptedSample Sample, string Source, SkillDemand Demand, IReadOnlyList<string> FailureIds);

/// <summary>What a prescription produced: accepted samples and every filter verdict.</summary>
public sealed record PrescriptionResult(IReadOnlyList<PrescribedSample> Samples, IReadOnlyList<FilterVerdict> Verdicts, int Proposed);

/// <summary>Splits a sample budget over the diagnosed skills in proportion to their failures (largest remainder, ties by key).</summary>
public static class DemandPlanner
{
    /// <summary>
    /// <paramref name="budget"/> samples of which round(budget x <paramref name="uniformShare"/>) are spread evenly over every
    /// skill of the taxonomy (<see cref="Uniform"/>) and the rest split by <see cref="Plan"/>. Uniform demands name no
    /// failures; they come after the targeted ones. A share of 0 is <see cref="Plan"/> alone.
    /// </summary>
    public static IReadOnlyList<SkillDemand> PlanWithUniform(IReadOnlyList<DiagnosedFailure> failures, int budget, double uniformShare, bool useDiagnosis = true,
        double contrast = 0, Func<string?, double>? weight = null)
    {
        if (uniformShare is < 0 or >= 1 || double.IsNaN(uniformShare))
            throw new ArgumentOutOfRangeException(nameof(uniformShare), uniformShare, "The uniform share must lie in [0, 1).");
        int uniform = (int)Math.Round(budget * uniformShare, MidpointRounding.AwayFromZero);
        var targeted = Plan(failures, budget - uniform, useDiagnosis, contrast, weight);
        return uniform == 0 ? targeted : [.. targeted, .. Uniform(uniform)];
    }

    /// <summary><paramref name="n"/> samples spread evenly over the taxonomy's skills, in taxonomy order (the first n mod 74 get one more).</summary>
    public static IReadOnlyList<SkillDemand> Uniform(int n)
    {
        var skills = SkillTaxonomy.All;
        return [.. skills.Select((s, i) => new SkillDemand(TeacherSkills.SkillText(s.Key), s.Key, n / skills.Count + (i < n % skills.Count ? 1 : 0), []))
            .Where(d => d.Count > 0)];
    }

    /// <summary>
    /// Default share of an answer-pinning skill's samples that go to its answer siblings (see <see cref="WithContrast"/>):
    /// without them, 4,000 samples for <c>query/shape=diamond</c> taught the student to answer "diamond" for squares too
    /// (targeted-vs-random at N = 4,000: <c>query/shape=square</c> -26 points, the one drop beyond the test's noise).
    /// </summary>
    public const double DefaultContrast = 0.25;

    /// <param name="useDiagnosis">When false (the no-diagnose ablation) the raw located step text is the query, one demand per distinct text.</param>
    /// <param name="contrast">Share of each answer-pinning skill's samples given to its answer siblings (<see cref="WithContrast"/>); 0 for none.</param>
    /// <param name="weight">
    /// Multiplier of a skill's share (by skill key, null for free text), from what earlier data did for it (<see cref="GainLedger.Weight"/>):
    /// 0 gives a skill nothing and its samples go to the others. Null: every skill weighs 1.
    /// </param>
    public static IReadOnlyList<SkillDemand> Plan(IReadOnlyList<DiagnosedFailure> failures, int budget, bool useDiagnosis = true, double contrast = 0,
        Func<string?, double>? weight = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        if (contrast is < 0 or >= 1 || double.IsNaN(contrast))
            throw new ArgumentOutOfRangeException(nameof(contrast), contrast, "The contrast share must lie in [0, 1).");
        var groups = failures
            .GroupBy(f => useDiagnosis ? f.Diagnosis.SkillKey ?? f.Diagnosis.Text : f.Step.Question, StringComparer.Ordinal)
            .Select(g => (Key: g.Key, Items: g.OrderBy(f => f.Failure.Id, StringComparer.Ordinal).ToList()))
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        if (groups.Count == 0 || budget == 0) return [];
        double[] mass = [.. groups.Select(g => g.Items.Count * (useDiagnosis && weight is not null ? Math.Max(0, weight(g.Items[0].Diagnosis.SkillKey)) : 1.0))];
        // When every diagnosed skill has been given up on there is nowhere better to send the budget: plan as without weights.
        if (mass.Sum() <= 0) mass = [.. groups.Select(g => (double)g.Items.Count)];
        double total = mass.Sum();
        var shares = groups.Select((g, i) => (g, Exact: budget * mass[i] / total)).ToList();
        var counts = shares.Select(s => (int)Math.Floor(s.Exact)).ToArray();
        int left = budget - counts.Sum();
        foreach (int i in Enumerable.Range(0, shares.Count).OrderByDescending(i => shares[i].Exact - counts[i]).ThenBy(i => i).Take(left)) counts[i]++;
        var demands = new List<SkillDemand>();
        var confusions = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        for (int i = 0; i < groups.Count; i++)
        {
            if (counts[i] == 0) continue;
            var first = groups[i].Items[0];
            string query = useDiagnosis ? first.Diagnosis.Text : first.Step.Question;
            string? key = useDiagnosis ? first.Diagnosis.SkillKey : null;
            demands.Add(new SkillDemand(query, key, counts[i], [.. groups[i].Items.Select(f => f.Failure.Id)]));
            confusions[query] = [.. groups[i].Items.Select(f => f.Step.Answer)];
        }
        return contrast > 0 ? WithContrast(demands, contrast, confusions) : demands;
    }

    /// <summary>
    /// Contrast samples: a skill such as <c>query/shape=diamond</c> pins the answer, so samples of it alone move the
    /// student's answers toward that value (squares become diamonds). Of each such demand, round(count x share)
    /// samples go to its answer siblings (<see cref="SkillTaxonomy.AnswerSiblings"/>: the same question about the
    /// other values), each sibling demand naming the same failures. Other demands and the total are unchanged.
    /// The split follows the student's confusions when they are given (<paramref name="confusedAnswers"/>: per demand
    /// query, the student's answers at the located steps of its failures): a sibling gets a share proportional to
    /// 1 + the number of those answers that fall in it (so "cyan" read as "blue" sends most of the contrast for
    /// <c>query/color=cyan</c> to <c>query/color=blue</c>, the boundary the new data moves); without them, evenly.
    /// Largest remainders, ties in taxonomy order.
    /// </summary>
    public static IReadOnlyList<SkillDemand> WithContrast(IReadOnlyList<SkillDemand> demands, double share,
        IReadOnlyDictionary<string, IReadOnlyList<string>>? confusedAnswers = null)
    {
        var result = new List<SkillDemand>(demands.Count);
        foreach (var demand in demands)
        {
            var siblings = demand.SkillKey is { } key && SkillTaxonomy.Contains(key) ? SkillTaxonomy.AnswerSiblings(key) : [];
            int moved = siblings.Count == 0 ? 0 : Math.Min(demand.Count - 1, (int)Math.Round(demand.Count * share, MidpointRounding.AwayFromZero));
            if (moved <= 0)
            {
                result.Add(demand);
                continue;
            }
            result.Add(demand with { Count = demand.Count - moved });
            var answers = confusedAnswers?.GetValueOrDefault(demand.Query) ?? [];
            double[] weights = [.. siblings.Select(s => 1.0 + answers.Count(a => SiblingOfAnswer(demand.SkillKey!, a) == s))];
            int[] counts = Apportion(moved, weights);
            for (int i = 0; i < siblings.Count; i++)
            {
                if (counts[i] > 0)
                    result.Add(new SkillDemand($"{TeacherSkills.SkillText(siblings[i])} (contrast for {demand.SkillKey})", siblings[i], counts[i], demand.FailureIds));
            }
        }
        return result;
    }

    /// <summary>
    /// The answer sibling of an answer-pinning skill that a (wrong) answer belongs to: for <c>query/color=cyan</c> and
    /// "blue", <c>query/color=blue</c>; for <c>count/color=cyan/n&gt;=5</c> and "3", <c>count/color=cyan/n=3-4</c>. Null
    /// when the answer names no sibling (another family's word, a count outside the taxonomy, the skill's own value).
    /// </summary>
    public static string? SiblingOfAnswer(string skillKey, string answer)
    {
        if (!SkillTaxonomy.Contains(skillKey)) return null;
        string? candidate;
        if (skillKey.StartsWith("count/", StringComparison.Ordinal))
        {
            if (!int.TryParse(answer, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)) return null;
            candidate = skillKey[..(skillKey.LastIndexOf('/') + 1)] + CountBuckets.Key(CountBuckets.Of(n));
        }
        else
        {
            int eq = skillKey.LastIndexOf('=');
            if (eq < 0 || answer.Length == 0 || answer.Any(c => !char.IsAsciiLetterLower(c))) return null;
            candidate = skillKey[..(eq + 1)] + answer;
        }
        return candidate != skillKey && SkillTaxonomy.AnswerSiblings(skillKey).Contains(candidate) ? candidate : null;
    }

    /// <summary>Splits <paramref name="total"/> in proportion to <paramref name="weights"/> (largest remainder, ties to the earlier index).</summary>
    private static int[] Apportion(int total, IReadOnlyList<double> weights)
    {
        double sum = weights.Sum();
        double[] exact = [.. weights.Select(w => total * w / sum)];
        int[] counts = [.. exact.Select(e => (int)Math.Floor(e))];
        int left = total - counts.Sum();
        foreach (int i in Enumerable.Range(0, counts.Length).OrderByDescending(i => exact[i] - counts[i]).ThenBy(i => i).Take(left)) counts[i]++;
        return counts;
    }
}

/// <summary>
/// Proposes samples for a skill and checks each one (schema, answer, judge): in-process, or through the
/// Teacher, ImageSynth and QualityFilter services. The result must depend only on the arguments.
/// </summary>
public interface IProposalPipeline
{
    Task<IReadOnlyList<ProposalCheck>> ProposeAndCheckAsync(SkillDiagnosis skill, int n, long seed, CancellationToken cancellationToken);
}

/// <summary>The in-process pipeline: the teacher proposes, the filter checks the proposals in parallel.</summary>
public sealed class LocalProposalPipeline(ITeacher teacher, QualityFilter filter) : IProposalPipeline
{
    public async Task<IReadOnlyList<ProposalCheck>> ProposeAndCheckAsync(SkillDiagnosis skill, int n, long seed, CancellationToken cancellationToken)
    {
        var proposals = await teacher.ProposeAsync(skill, null, n, seed, cancellationToken).ConfigureAwait(false);
        var checks = new ProposalCheck[proposals.Count];
        await Parallel.ForAsync(0, proposals.Count, new ParallelOptions { CancellationToken = cancellationToken }, async (i, ct) =>
            checks[i] = await filter.CheckAsync(proposals[i], ct).ConfigureAwait(false)).ConfigureAwait(false);
        return checks;
    }
}

/// <summary>
/// Seed 000/001's prescription: the teacher proposes samples for each demanded skill, they are rendered and
/// checked, and proposing continues (a few rounds) until each demand is met. Proposals and checks depend only
/// on (skill, count, seed), so every demand's first round is started at once (spread over the pipeline's
/// workers); the decisions (duplicates, caps) are then taken demand by demand, in query order, which keeps the
/// result the same however the work was spread.
/// </summary>
public sealed class Synthesizer(IProposalPipeline pipeline, QualityFilter filter)
{
    /// <summary>Proposals asked per accepted sample wanted, on the first round.</summary>
    public const double Overshoot = 1.3;
    public const int MaxRounds = 4;

    public Synthesizer(ITeacher teacher, QualityFilter filter) : this(new LocalProposalPipeline(teacher, filter), filter)
    {
    }

    public async Task<PrescriptionResult> PrescribeAsync(IReadOnlyList<SkillDemand> demands, long seed, IDuplicateRegistry duplicates,
        IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var samples = new List<PrescribedSample>();
        var verdicts = new List<FilterVerdict>();
        var perSkill = new Dictionary<string, int>(StringComparer.Ordinal);
        int proposed = 0;
        var ordered = demands.OrderBy(d => d.Query, StringComparer.Ordinal).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var firstRounds = ordered.Select(d => Round(d, 0, d.Count, seed, stop.Token)).ToList();
        try
        {
            for (int d = 0; d < ordered.Count; d++)
            {
                var demand = ordered[d];
                int got = 0;
                for (int round = 0; round < MaxRounds && got < demand.Count; round++)
                {
                    int want = demand.Count - got;
                    var checks = await (round == 0 ? firstRounds[d] : Round(demand, round, want, seed, stop.Token)).ConfigureAwait(false);
                    proposed += checks.Count;
                    var (accepted, roundVerdicts) = await filter.DecideAsync(checks, duplicates, perSkill, null, cancellationToken).ConfigureAwait(false);
                    verdicts.AddRange(roundVerdicts);
                    foreach (var a in accepted.Take(want))
                    {
                        samples.Add(new PrescribedSample(a, "synthesised", demand, demand.FailureIds));
                        got++;
                    }
                    if (accepted.Count == 0 && roundVerdicts.All(v => v.Reason == FilterReason.SkillCap)) break;
                }
                progress?.Report(samples.Count);
            }
        }
        finally
        {
            // A failure or cancellation must not leave first rounds running unobserved.
            await stop.CancelAsync().ConfigureAwait(false);
            try { await Task.WhenAll(firstRounds).ConfigureAwait(false); } catch (Exception) when (stop.IsCancellationRequested) { }
        }
        return new PrescriptionResult(samples, verdicts, proposed);
    }

    private Task<IReadOnlyList<ProposalCheck>> Round(SkillDemand demand, int round, int want, long seed, CancellationToken cancellationToken)
    {
        int ask = round == 0 ? (int)Math.Ceiling(want * Overshoot) + 2 : want * 2 + 4;
        long roundSeed = StableHash.Seed("synthesise", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), demand.Query, round.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return pipeline.ProposeAndCheckAsync(new SkillDiagnosis(demand.Query, demand.SkillKey), ask, roundSeed, cancellationToken);
    }
}

/// <summary>
/// Seed 002's support pool: samples from an existing dataset whose required-skill texts were precomputed by
/// the teacher, indexed with our BM25. Retrieval takes the top-K per missing skill, skipping samples another
/// skill already took.
/// </summary>
public sealed class SupportPool
{
    private readonly Bm25Index _index;

    private SupportPool(IReadOnlyList<WorldSample> samples, IReadOnlyList<string> skillTexts, Bm25Index index)
    {
        Samples = samples;
        SkillTexts = skillTexts;
        _index = index;
    }

    public IReadOnlyList<WorldSample> Samples { get; }
    public IReadOnlyList<string> SkillTexts { get; }
    public Bm25Index Index => _index;

    /// <summary>Generates <paramref name="count"/> pool samples from <paramref name="profile"/> and has the teacher describe the skill each needs.</summary>
    public static async Task<SupportPool> BuildAsync(ITeacher teacher, string profile, int count, long seed, double k1, double b,
        IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var generator = new WorldGenerator(Profiles.Resolve(profile));
        var samples = new WorldSample[count];
        Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken }, i => samples[i] = generator.Generate(seed, i));
        var texts = new string[count];
        for (int i = 0; i < count; i++)
        {
            var s = samples[i];
            texts[i] = await teacher.DescribeRequiredSkillAsync(new TeacherQuestion(s.Question, s.Family, s.Program, s.Choices), s.ShortAnswer, cancellationToken).ConfigureAwait(false);
            if ((i & 4095) == 4095) progress?.Report(i + 1);
        }
        var index = new Bm25Index(k1, b);
        for (int i = 0; i < count; i++) index.Add(samples[i].Id, texts[i]);
        progress?.Report(count);
        return new SupportPool(samples, texts, index);
    }

    /// <summary>Top-K per demand (K = the demand's count), in demand order, never the same pool sample twice.</summary>
    public IReadOnlyList<(WorldSample Sample, SkillDemand Demand, double Score)> Retrieve(IReadOnlyList<SkillDemand> demands, ISet<string>? exclude = null)
    {
        var taken = new HashSet<int>();
        var result = new List<(WorldSample, SkillDemand, double)>();
        foreach (var demand in demands.OrderBy(d => d.Query, StringComparer.Ordinal))
        {
            int got = 0;
            int depth = demand.Count * 2 + 16;
            while (got < demand.Count)
            {
                var hits = _index.Search(demand.Query, Math.Min(depth, Samples.Count));
                foreach (var hit in hits)
                {
                    if (got == demand.Count) break;
                    if (taken.Contains(hit.Document) || exclude?.Contains(Samples[hit.Document].Id) == true) continue;
                    taken.Add(hit.Document);
                    result.Add((Samples[hit.Document], demand, hit.Score));
                    got++;
                }
                if (hits.Count < depth || depth >= Samples.Count) break;
                depth *= 2;
            }
        }
        return result;
    }

    /// <summary><paramref name="count"/> pool samples drawn uniformly without replacement (the random-retrieval baseline).</summary>
    public IReadOnlyList<WorldSample> Random(int count, long seed)
    {
        return [.. DeterministicDraw.Indices(Samples.Count, count, DeterministicRandom.Derive(seed, 0x5eed)).Select(i => Samples[i])];
    }
}

/// <summary>Turns real (retrieved or freshly generated) samples into prescribed samples through the filter (no judge needed: the data is real).</summary>
public static class RealSamples
{
    public static SampleProposal ToProposal(WorldSample sample, string? skillKey) => new(
        StableHash.Id("real", sample.Id), skillKey ?? (sample.Skills.Count > 0 ? sample.Skills[^1] : null), sample.Scene, null,
        sample.Question, sample.ShortAnswer, [.. sample.Steps.Select(s => $"{s.Question} {s.Answer}")], sample.Program);

    public static async Task<PrescriptionResult> AdmitAsync(IReadOnlyList<(WorldSample Sample, SkillDemand Demand)> items, string source,
        QualityFilter filter, IDuplicateRegistry duplicates, CancellationToken cancellationToken)
    {
        var byProposal = new Dictionary<string, SkillDemand>(StringComparer.Ordinal);
        var proposals = new List<SampleProposal>(items.Count);
        foreach (var (sample, demand) in items)
        {
            var p = ToProposal(sample, demand.SkillKey);
            if (byProposal.TryAdd(p.Id, demand)) proposals.Add(p);
        }
        var (accepted, verdicts) = await filter.FilterAsync(proposals, duplicates, new Dictionary<string, int>(StringComparer.Ordinal), null, cancellationToken).ConfigureAwait(false);
        return new PrescriptionResult([.. accepted.Select(a => new PrescribedSample(a, source, byProposal[a.Proposal.Id], byProposal[a.Proposal.Id].FailureIds))], verdicts, proposals.Count);
    }
}
