using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Skills;

/// <summary>One entry of the skill taxonomy: canonical key, family key and a one-line plain-English description.</summary>
public sealed record SkillInfo(string Key, string Family, string Description);

/// <summary>
/// The finite list of ShapesWorld skills (74 keys). Every generated program maps onto 1..3 of
/// them (<see cref="ProgramSkills"/>); the diagnosis and targeted-synthesis stages speak in
/// these keys.
/// </summary>
public static class SkillTaxonomy
{
    private static readonly IReadOnlyList<(SkillKey Key, SkillInfo Info)> Entries = Build();
    private static readonly Dictionary<string, int> IndexByKey =
        Entries.Select((e, i) => (e.Info.Key, i)).ToDictionary(p => p.Key, p => p.i, StringComparer.Ordinal);

    /// <summary>Every skill, ordered by family (exist, count, query, compare, relate, same, arith) then facet.</summary>
    public static IReadOnlyList<SkillInfo> All { get; } = [.. Entries.Select(e => e.Info)];

    public static bool Contains(string key) => key is not null && IndexByKey.ContainsKey(key);

    public static bool TryParse(string key, out SkillKey skill)
    {
        if (key is not null && IndexByKey.TryGetValue(key, out int i))
        {
            skill = Entries[i].Key;
            return true;
        }
        skill = null!;
        return false;
    }

    /// <summary>The parsed key; an unknown key gives an <see cref="ArgumentException"/> that lists the valid keys of its family.</summary>
    public static SkillKey Parse(string key)
    {
        if (TryParse(key, out SkillKey skill)) return skill;
        throw new ArgumentException(UnknownKeyMessage(key), nameof(key));
    }

    public static string Describe(string key) => Info(key).Description;

    /// <summary>
    /// The skills that differ from <paramref name="key"/> only in the answer they pin down, in taxonomy order:
    /// for <c>query/shape=diamond</c> the other <c>query/shape=...</c> values, for <c>count/color=cyan/n&gt;=5</c>
    /// the other count buckets of cyan. Empty for a skill that does not pin its answer (yes/no families,
    /// <c>query/shape</c> itself, arithmetic). An unknown key gives an <see cref="ArgumentException"/>.
    /// </summary>
    public static IReadOnlyList<string> AnswerSiblings(string key)
    {
        SkillKey skill = Parse(key);
        bool pinsAnswer = skill.Family switch
        {
            QuestionFamily.Query => skill.Color is not null || skill.Shape is not null || skill.Size is not null,
            QuestionFamily.Count => true,
            _ => false,
        };
        if (!pinsAnswer) return [];
        return [.. Entries
            .Where(e => e.Key != skill && e.Key.Family == skill.Family && e.Key.Attribute == skill.Attribute && SameFacetsApartFromAnswer(e.Key, skill))
            .Select(e => e.Info.Key)];
    }

    private static bool SameFacetsApartFromAnswer(SkillKey candidate, SkillKey skill) => skill.Family == QuestionFamily.Count
        ? candidate.Color == skill.Color
        : (candidate.Color is not null || candidate.Shape is not null || candidate.Size is not null);

    public static SkillInfo Info(string key)
    {
        if (key is not null && IndexByKey.TryGetValue(key, out int i)) return Entries[i].Info;
        throw new ArgumentException(UnknownKeyMessage(key), nameof(key));
    }

    private static string UnknownKeyMessage(string? key)
    {
        string family = key?.Split('/')[0] ?? "";
        var sameFamily = All.Where(s => s.Family == family).Select(s => s.Key).ToList();
        string hint = sameFamily.Count > 0
            ? $"Valid '{family}' keys are: {string.Join(", ", sameFamily)}."
            : $"A key starts with a family ({string.Join(", ", Enum.GetValues<QuestionFamily>().Select(QuestionKeys.Of))}), " +
              "e.g. 'count/color=cyan/n>=5' or 'relate/above'; SkillTaxonomy.All lists every key.";
        return $"Unknown skill key '{key}'. {hint}";
    }

    private static List<(SkillKey, SkillInfo)> Build()
    {
        var list = new List<(SkillKey, SkillInfo)>();
        void Add(SkillKey key, string description) =>
            list.Add((key, new SkillInfo(key.ToString(), QuestionKeys.Of(key.Family), description)));

        foreach (ObjectShape s in Enum.GetValues<ObjectShape>())
            Add(new SkillKey(QuestionFamily.Exist, Shape: s), $"Tell whether the scene contains a {AnswerWords.Of(s)} of a described kind.");
        foreach (ObjectColor c in Enum.GetValues<ObjectColor>())
            Add(new SkillKey(QuestionFamily.Exist, Color: c), $"Tell whether the scene contains a {AnswerWords.Of(c)} object of a described kind.");

        foreach (ObjectColor c in Enum.GetValues<ObjectColor>())
            foreach (CountBucket b in Enum.GetValues<CountBucket>())
                Add(new SkillKey(QuestionFamily.Count, Color: c, Bucket: b),
                    $"Count the {AnswerWords.Of(c)} objects of a described kind when there are {CountBuckets.Words(b)}.");

        Add(new SkillKey(QuestionFamily.Query, Attribute: ObjectAttribute.Color), "Name the colour of a uniquely described object.");
        foreach (ObjectColor c in Enum.GetValues<ObjectColor>())
            Add(new SkillKey(QuestionFamily.Query, Attribute: ObjectAttribute.Color, Color: c),
                $"Name the colour of a uniquely described object when it is {AnswerWords.Of(c)}.");
        Add(new SkillKey(QuestionFamily.Query, Attribute: ObjectAttribute.Shape), "Name the shape of a uniquely described object.");
        foreach (ObjectShape s in Enum.GetValues<ObjectShape>())
            Add(new SkillKey(QuestionFamily.Query, Attribute: ObjectAttribute.Shape, Shape: s),
                $"Name the shape of a uniquely described object when it is a {AnswerWords.Of(s)}.");
        Add(new SkillKey(QuestionFamily.Query, Attribute: ObjectAttribute.Size), "Name the size of a uniquely described object.");
        foreach (ObjectSize z in Enum.GetValues<ObjectSize>())
            Add(new SkillKey(QuestionFamily.Query, Attribute: ObjectAttribute.Size, Size: z),
                $"Name the size of a uniquely described object when it is {AnswerWords.Of(z)}.");

        Add(new SkillKey(QuestionFamily.Compare), "Compare the numbers of objects of two descriptions.");
        Add(new SkillKey(QuestionFamily.Compare, Comparison: CountComparison.More), "Decide whether there are more objects of one description than of another.");
        Add(new SkillKey(QuestionFamily.Compare, Comparison: CountComparison.Fewer), "Decide whether there are fewer objects of one description than of another.");
        Add(new SkillKey(QuestionFamily.Compare, Comparison: CountComparison.Equal), "Decide whether two descriptions have equally many objects.");

        foreach (SpatialRelation r in Enum.GetValues<SpatialRelation>())
            Add(new SkillKey(QuestionFamily.Relate, Relation: r),
                $"Decide whether one uniquely described object is {QuestionPhrasing.RelationWords(r)} another.");

        foreach (ObjectAttribute a in Enum.GetValues<ObjectAttribute>())
            Add(new SkillKey(QuestionFamily.Same, Attribute: a),
                $"Decide whether two uniquely described objects have the same {QuestionPhrasing.AttributeNoun(a)}.");

        Add(new SkillKey(QuestionFamily.Arith, Operation: ArithOperation.Sum), "Add up the counts of two descriptions of objects.");
        Add(new SkillKey(QuestionFamily.Arith, Operation: ArithOperation.Difference), "Tell how many more objects one description has than another.");
        return list;
    }
}
