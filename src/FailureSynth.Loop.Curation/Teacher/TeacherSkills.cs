using FailureSynth.Loop.Contracts;
using FailureSynth.Retrieval;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.Loop.Teacher;

/// <summary>
/// What the embedded teacher knows about skills without seeing a scene: which skill a located step
/// exercises (from the program and the known gold answer), the skill text of a question with its answer
/// (for the support pool), and which skill a free-form text is about (BM25 over the taxonomy).
/// </summary>
public static class TeacherSkills
{
    private static readonly Lazy<Bm25Index> TaxonomyIndex = new(() =>
    {
        var index = new Bm25Index();
        foreach (SkillInfo skill in SkillTaxonomy.All) index.Add(skill.Key, SkillText(skill.Key));
        return index;
    });

    /// <summary>The text of a skill as indexed and queried: its key and its description.</summary>
    public static string SkillText(string key) => $"{key} {SkillTaxonomy.Describe(key)}";

    /// <summary>
    /// The canonical skill behind step <paramref name="stepIndex"/> of a failed question. Count skills are
    /// bucketed by the gold count on the final step and by the student's stated count on earlier ones (the
    /// teacher cannot see the true count); query skills carry the gold value.
    /// </summary>
    public static string KeyForStep(QuestionProgram program, int stepIndex, string gold, IReadOnlyList<StepAnswer> studentSteps)
    {
        ArgumentNullException.ThrowIfNull(program);
        int count = Reasoning.StepCount(program);
        if (stepIndex < 1 || stepIndex > count)
            throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"The question has steps 1..{count}.");
        SkillKey key = program switch
        {
            ExistProgram p => p.Target.Color is { } c ? new SkillKey(QuestionFamily.Exist, Color: c) : new SkillKey(QuestionFamily.Exist, Shape: p.Target.Shape),
            CountProgram p => CountKey(p, stepIndex, count, gold, studentSteps),
            QueryProgram p => stepIndex == 1 ? new SkillKey(QuestionFamily.Query, Attribute: p.Attribute) : QueryKey(p.Attribute, gold),
            CompareProgram p => new SkillKey(QuestionFamily.Compare, Comparison: p.Comparison),
            RelateProgram p => new SkillKey(QuestionFamily.Relate, Relation: p.Relation),
            SameProgram p => new SkillKey(QuestionFamily.Same, Attribute: p.Attribute),
            ArithProgram p => new SkillKey(QuestionFamily.Arith, Operation: p.Operation),
            _ => throw new ArgumentException($"Unknown program type {program.GetType().Name}.", nameof(program)),
        };
        string text = key.ToString();
        return SkillTaxonomy.Contains(text) ? text : throw new InvalidOperationException($"Derived skill key '{text}' is not in the taxonomy.");
    }

    /// <summary>The skills a question with a known answer needs (no scene): the support pool's skill labels.</summary>
    public static IReadOnlyList<string> KeysForAnswer(QuestionProgram program, string answer)
    {
        ArgumentNullException.ThrowIfNull(program);
        var keys = new List<SkillKey>();
        switch (program)
        {
            case ExistProgram p:
                if (p.Target.Shape is { } s) keys.Add(new(QuestionFamily.Exist, Shape: s));
                if (p.Target.Color is { } c) keys.Add(new(QuestionFamily.Exist, Color: c));
                break;
            case CountProgram p when p.Target.Color is { } color && AnswerWords.TryParseNumber(answer, out int n):
                keys.Add(new(QuestionFamily.Count, Color: color, Bucket: CountBuckets.Of(n)));
                break;
            case QueryProgram p:
                keys.Add(new(QuestionFamily.Query, Attribute: p.Attribute));
                if (TryQueryKey(p.Attribute, answer, out SkillKey? specific)) keys.Add(specific);
                break;
            case CompareProgram p:
                keys.Add(new(QuestionFamily.Compare));
                keys.Add(new(QuestionFamily.Compare, Comparison: p.Comparison));
                break;
            case RelateProgram p:
                keys.Add(new(QuestionFamily.Relate, Relation: p.Relation));
                break;
            case SameProgram p:
                keys.Add(new(QuestionFamily.Same, Attribute: p.Attribute));
                break;
            case ArithProgram p:
                keys.Add(new(QuestionFamily.Arith, Operation: p.Operation));
                break;
        }
        return [.. keys.Select(k => k.ToString()).Where(SkillTaxonomy.Contains)];
    }

    /// <summary>The taxonomy skill whose text best matches <paramref name="text"/> (BM25), or null when nothing matches.</summary>
    public static string? Match(string text)
    {
        var hits = TaxonomyIndex.Value.Search(text, 1);
        return hits.Count == 0 ? null : hits[0].Id;
    }

    /// <summary>
    /// A skill for a text nothing in the taxonomy matches (e.g. a bare step like "What is 8 minus 8?"): drawn
    /// uniformly, seeded by the text, so the same text always gets the same guess. This is what requesting data
    /// without a diagnosis costs.
    /// </summary>
    public static string Guess(string text)
    {
        var rng = World.DeterministicRandom.Derive(Common.StableHash.Seed("skill-guess", text ?? ""));
        return SkillTaxonomy.All[rng.NextInt(SkillTaxonomy.All.Count)].Key;
    }

    private static SkillKey CountKey(CountProgram p, int stepIndex, int count, string gold, IReadOnlyList<StepAnswer> studentSteps)
    {
        var chain = Reasoning.RefinementChain(p.Target, minimumLength: 2);
        ObjectColor color = chain[stepIndex - 1].Color ?? p.Target.Color
            ?? throw new ArgumentException("Count questions name a colour; this one does not.", nameof(p));
        string basis = stepIndex == count || stepIndex > studentSteps.Count ? gold : studentSteps[stepIndex - 1].Answer;
        if (!AnswerWords.TryParseNumber(basis.Trim(), out int n) || n < 0) AnswerWords.TryParseNumber(gold.Trim(), out n);
        return new SkillKey(QuestionFamily.Count, Color: color, Bucket: CountBuckets.Of(Math.Max(0, n)));
    }

    private static SkillKey QueryKey(ObjectAttribute attribute, string gold) =>
        TryQueryKey(attribute, gold, out SkillKey? key) ? key : new SkillKey(QuestionFamily.Query, Attribute: attribute);

    private static bool TryQueryKey(ObjectAttribute attribute, string value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SkillKey? key)
    {
        string word = value.Trim().ToLowerInvariant();
        key = attribute switch
        {
            ObjectAttribute.Color => Enum.GetValues<ObjectColor>().Where(c => AnswerWords.Of(c) == word).Select(c => new SkillKey(QuestionFamily.Query, Attribute: attribute, Color: c)).FirstOrDefault(),
            ObjectAttribute.Shape => Enum.GetValues<ObjectShape>().Where(s => AnswerWords.Of(s) == word).Select(s => new SkillKey(QuestionFamily.Query, Attribute: attribute, Shape: s)).FirstOrDefault(),
            _ => Enum.GetValues<ObjectSize>().Where(z => AnswerWords.Of(z) == word).Select(z => new SkillKey(QuestionFamily.Query, Attribute: attribute, Size: z)).FirstOrDefault(),
        };
        return key is not null;
    }
}
