using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.World.Generation;

/// <summary>
/// The categorical choices of one sample, drawn once from the profile's declared weights before
/// any scene is built. Scene construction may be retried with fresh details, but never with
/// fresh categories, so generated frequencies equal the declared ones. A demanded skill
/// overrides the choices that define it.
/// </summary>
internal sealed record SampleIntent(
    QuestionFamily Family,
    ObjectColor Color,
    ObjectShape Shape,
    ObjectSize Size,
    bool NamesColor,
    CountBucket Bucket,
    SpatialRelation Relation,
    ObjectAttribute QueryAttribute,
    ObjectAttribute SameAttribute,
    CountComparison Comparison,
    ArithOperation Operation,
    bool Yes)
{
    /// <summary>How often an exist question names a colour besides its shape.</summary>
    public const double ExistNamesColorProbability = 0.6;

    public static SampleIntent Draw(Profile profile, DeterministicRandom rng, SkillKey? demand)
    {
        // Every field is drawn, always in this order, so that the stream is consumed identically whatever the family.
        var intent = new SampleIntent(
            Family: profile.Families.Sample(rng),
            Color: profile.Colors.Sample(rng),
            Shape: profile.Shapes.Sample(rng),
            Size: rng.NextInt(2) == 0 ? ObjectSize.Small : ObjectSize.Large,
            NamesColor: rng.NextDouble() < ExistNamesColorProbability,
            Bucket: profile.Counts.Sample(rng),
            Relation: profile.Relations.Sample(rng),
            QueryAttribute: profile.QueryAttributes.Sample(rng),
            SameAttribute: profile.SameAttributes.Sample(rng),
            Comparison: profile.Comparisons.Sample(rng),
            Operation: profile.ArithOperations.Sample(rng),
            Yes: rng.NextDouble() < profile.YesProbability);
        return demand is null ? intent : intent.Demanding(demand);
    }

    private SampleIntent Demanding(SkillKey d) => d.Family switch
    {
        QuestionFamily.Exist => this with
        {
            Family = d.Family,
            Shape = d.Shape ?? Shape,
            Color = d.Color ?? Color,
            NamesColor = d.Color is not null || NamesColor,
        },
        QuestionFamily.Count => this with { Family = d.Family, Color = d.Color ?? Color, Bucket = d.Bucket ?? Bucket },
        QuestionFamily.Query => this with
        {
            Family = d.Family,
            QueryAttribute = d.Attribute ?? QueryAttribute,
            Color = d.Color ?? Color,
            Shape = d.Shape ?? Shape,
            Size = d.Size ?? Size,
        },
        QuestionFamily.Compare => this with { Family = d.Family, Comparison = d.Comparison ?? Comparison },
        QuestionFamily.Relate => this with { Family = d.Family, Relation = d.Relation ?? Relation },
        QuestionFamily.Same => this with { Family = d.Family, SameAttribute = d.Attribute ?? SameAttribute },
        QuestionFamily.Arith => this with { Family = d.Family, Operation = d.Operation ?? Operation },
        _ => throw new ArgumentOutOfRangeException(nameof(d), d.Family, "unknown question family"),
    };
}
