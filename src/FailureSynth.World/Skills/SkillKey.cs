using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Skills;

/// <summary>
/// A parsed canonical skill key: the family plus the facets that make the skill specific
/// (e.g. colour and count bucket for counting). <see cref="ToString"/> gives the canonical
/// text, e.g. <c>count/color=cyan/n&gt;=5</c>.
/// </summary>
public sealed record SkillKey(
    QuestionFamily Family,
    ObjectShape? Shape = null,
    ObjectColor? Color = null,
    ObjectSize? Size = null,
    CountBucket? Bucket = null,
    ObjectAttribute? Attribute = null,
    SpatialRelation? Relation = null,
    CountComparison? Comparison = null,
    ArithOperation? Operation = null)
{
    public override string ToString() => Family switch
    {
        QuestionFamily.Exist when Shape is { } s => $"exist/shape={AnswerWords.Of(s)}",
        QuestionFamily.Exist when Color is { } c => $"exist/color={AnswerWords.Of(c)}",
        QuestionFamily.Count when Color is { } c && Bucket is { } b => $"count/color={AnswerWords.Of(c)}/{CountBuckets.Key(b)}",
        QuestionFamily.Query when Attribute is { } a => $"query/{QuestionKeys.Of(a)}{ValueSuffix()}",
        QuestionFamily.Compare => Comparison is { } cmp ? $"compare/{QuestionKeys.Of(cmp)}" : "compare/count",
        QuestionFamily.Relate when Relation is { } r => $"relate/{QuestionKeys.Of(r)}",
        QuestionFamily.Same when Attribute is { } a => $"same/{QuestionKeys.Of(a)}",
        QuestionFamily.Arith when Operation is { } op => $"arith/{QuestionKeys.Of(op)}",
        _ => throw new InvalidOperationException($"This {QuestionKeys.Of(Family)} skill lacks the facet its family needs for a canonical key."),
    };

    private string ValueSuffix() => Attribute switch
    {
        ObjectAttribute.Color when Color is { } c => "=" + AnswerWords.Of(c),
        ObjectAttribute.Shape when Shape is { } s => "=" + AnswerWords.Of(s),
        ObjectAttribute.Size when Size is { } z => "=" + AnswerWords.Of(z),
        _ => "",
    };
}
