using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.World.Generation;

/// <summary>A program together with the scene it needs and the answer it is meant to have on that scene.</summary>
internal sealed record QuestionPlan(QuestionProgram Program, SceneBlueprint Blueprint, string IntendedAnswer);

/// <summary>
/// Turns a <see cref="SampleIntent"/> into a concrete program and a scene blueprint that gives
/// it the intended answer. The intended answer only steers construction: the generator
/// re-executes the program on the built scene and keeps the executor's answer.
/// </summary>
internal sealed class QuestionPlanner(Profile profile, SceneSampler sampler)
{
    private const double ExtraSizeProbability = 0.3;
    private const double CountNamesShapeProbability = 0.4;
    private const double CountNamesSizeProbability = 0.25;
    private const double PairExtraAttributeProbability = 0.35;
    private const int MaxCompareCount = 4;

    public SceneSampler Sampler => sampler;

    public QuestionPlan Plan(SampleIntent intent, DeterministicRandom rng) => intent.Family switch
    {
        QuestionFamily.Exist => Exist(intent, rng),
        QuestionFamily.Count => Count(intent, rng),
        QuestionFamily.Query => Query(intent, rng),
        QuestionFamily.Compare => Compare(intent, rng),
        QuestionFamily.Relate => Relate(intent, rng),
        QuestionFamily.Same => Same(intent, rng),
        QuestionFamily.Arith => Arith(intent, rng),
        _ => throw new ArgumentOutOfRangeException(nameof(intent), intent.Family, "unknown question family"),
    };

    private QuestionPlan Exist(SampleIntent intent, DeterministicRandom rng)
    {
        var target = new ObjectFilter(
            Shape: intent.Shape,
            Color: intent.NamesColor ? intent.Color : null,
            Size: rng.NextDouble() < ExtraSizeProbability ? RandomSize(rng) : null);
        int matching = intent.Yes ? rng.NextInt(1, 3) : 0;
        return new QuestionPlan(new ExistProgram(target), Blueprint(Copies(target, matching, rng), [target], rng),
            AnswerWords.YesNo(intent.Yes));
    }

    private QuestionPlan Count(SampleIntent intent, DeterministicRandom rng)
    {
        var target = new ObjectFilter(
            Shape: rng.NextDouble() < CountNamesShapeProbability ? profile.Shapes.Sample(rng) : null,
            Color: intent.Color,
            Size: rng.NextDouble() < CountNamesSizeProbability ? RandomSize(rng) : null);
        (int min, int max) = CountBuckets.GeneratedRange(intent.Bucket);
        int count = rng.NextInt(min, max + 1);
        return new QuestionPlan(new CountProgram(target), Blueprint(Copies(target, count, rng), [target], rng),
            AnswerWords.Number(count));
    }

    private QuestionPlan Query(SampleIntent intent, DeterministicRandom rng)
    {
        ObjectAttribute asked = intent.QueryAttribute;
        ObjectLook look = sampler.RandomLook(rng);
        look = asked switch
        {
            ObjectAttribute.Color => look with { Color = intent.Color },
            ObjectAttribute.Shape => look with { Shape = intent.Shape },
            _ => look with { Size = intent.Size },
        };
        // Describe the object by one or both of the attributes that are not asked.
        ObjectAttribute[] others = [.. Enum.GetValues<ObjectAttribute>().Where(a => a != asked)];
        int pick = rng.NextInt(3);
        var target = new ObjectFilter();
        if (pick != 1) target = Name(target, look, others[0]);
        if (pick != 0) target = Name(target, look, others[1]);
        return new QuestionPlan(new QueryProgram(target, asked), Blueprint([look], [target], rng),
            AnswerWords.Of(look.At(0, 0), asked));
    }

    private QuestionPlan Compare(SampleIntent intent, DeterministicRandom rng)
    {
        (ObjectFilter first, ObjectFilter second) = DisjointPair(Enum.GetValues<ObjectAttribute>(), rng);
        var pairs = new List<(int A, int B)>();
        for (int a = 0; a <= MaxCompareCount; a++)
            for (int b = 0; b <= MaxCompareCount; b++)
                if (a + b > 0 && ProgramExecutor.Holds(intent.Comparison, a, b) == intent.Yes)
                    pairs.Add((a, b));
        (int countA, int countB) = rng.Pick(pairs);
        return new QuestionPlan(new CompareProgram(first, second, intent.Comparison),
            Blueprint([.. Copies(first, countA, rng), .. Copies(second, countB, rng)], [first, second], rng),
            AnswerWords.YesNo(intent.Yes));
    }

    private QuestionPlan Relate(SampleIntent intent, DeterministicRandom rng)
    {
        (ObjectFilter subject, ObjectFilter reference) = DisjointPair(Enum.GetValues<ObjectAttribute>(), rng);
        SpatialRelation placed = intent.Yes ? intent.Relation : Opposite(intent.Relation);
        SceneBlueprint blueprint = Blueprint([sampler.Complete(subject, rng), sampler.Complete(reference, rng)], [subject, reference], rng)
            with { Placement = new RelativePlacement(0, 1, placed) };
        return new QuestionPlan(new RelateProgram(subject, reference, intent.Relation), blueprint, AnswerWords.YesNo(intent.Yes));
    }

    private QuestionPlan Same(SampleIntent intent, DeterministicRandom rng)
    {
        ObjectAttribute compared = intent.SameAttribute;
        (ObjectFilter first, ObjectFilter second) = DisjointPair([.. Enum.GetValues<ObjectAttribute>().Where(a => a != compared)], rng);
        ObjectLook a = sampler.Complete(first, rng), b = sampler.Complete(second, rng);
        b = compared switch
        {
            ObjectAttribute.Color => b with { Color = intent.Yes ? a.Color : profile.Colors.SampleOtherThan(a.Color, rng) },
            ObjectAttribute.Shape => b with { Shape = intent.Yes ? a.Shape : profile.Shapes.SampleOtherThan(a.Shape, rng) },
            _ => b with { Size = intent.Yes ? a.Size : Other(a.Size) },
        };
        return new QuestionPlan(new SameProgram(first, second, compared), Blueprint([a, b], [first, second], rng),
            AnswerWords.YesNo(intent.Yes));
    }

    private QuestionPlan Arith(SampleIntent intent, DeterministicRandom rng)
    {
        (ObjectFilter first, ObjectFilter second) = DisjointPair(Enum.GetValues<ObjectAttribute>(), rng);
        (int min, int max) = CountBuckets.GeneratedRange(intent.Bucket);
        int result = rng.NextInt(min, max + 1);
        int countA, countB;
        if (intent.Operation == ArithOperation.Sum)
        {
            countA = rng.NextInt(result + 1);
            countB = result - countA;
        }
        else
        {
            // The first description always has at least as many objects, so "how many more X than Y" is truthful;
            // both together stay within the counts a 64x64 scene shows legibly.
            countB = rng.NextInt((CountBuckets.MaxGeneratedCount - result) / 2 + 1);
            countA = countB + result;
        }
        return new QuestionPlan(new ArithProgram(first, second, intent.Operation),
            Blueprint([.. Copies(first, countA, rng), .. Copies(second, countB, rng)], [first, second], rng),
            AnswerWords.Number(result));
    }

    /// <summary>
    /// Two descriptions no single object can match: they name the same "contrast" attribute with
    /// different values, and each may name further attributes from <paramref name="allowed"/>.
    /// </summary>
    private (ObjectFilter, ObjectFilter) DisjointPair(IReadOnlyList<ObjectAttribute> allowed, DeterministicRandom rng)
    {
        ObjectAttribute contrast = rng.Pick(allowed);
        ObjectLook one = sampler.RandomLook(rng);
        ObjectLook two = contrast switch
        {
            ObjectAttribute.Color => one with { Color = profile.Colors.SampleOtherThan(one.Color, rng) },
            ObjectAttribute.Shape => one with { Shape = profile.Shapes.SampleOtherThan(one.Shape, rng) },
            _ => one with { Size = Other(one.Size) },
        };
        ObjectFilter first = Name(new ObjectFilter(), one, contrast), second = Name(new ObjectFilter(), two, contrast);
        foreach (ObjectAttribute extra in allowed.Where(a => a != contrast))
        {
            if (rng.NextDouble() < PairExtraAttributeProbability) first = Name(first, sampler.RandomLook(rng), extra);
            if (rng.NextDouble() < PairExtraAttributeProbability) second = Name(second, sampler.RandomLook(rng), extra);
        }
        return (first, second);
    }

    private SceneBlueprint Blueprint(IReadOnlyList<ObjectLook> required, IReadOnlyList<ObjectFilter> reserved, DeterministicRandom rng)
    {
        int total = rng.NextInt(profile.MinObjects, profile.MaxObjects + 1);
        return new SceneBlueprint(required, reserved, Math.Max(total, required.Count));
    }

    private List<ObjectLook> Copies(ObjectFilter filter, int count, DeterministicRandom rng) =>
        [.. Enumerable.Range(0, count).Select(_ => sampler.Complete(filter, rng))];

    private static ObjectFilter Name(ObjectFilter filter, ObjectLook look, ObjectAttribute attribute) => attribute switch
    {
        ObjectAttribute.Shape => filter with { Shape = look.Shape },
        ObjectAttribute.Color => filter with { Color = look.Color },
        _ => filter with { Size = look.Size },
    };

    private static ObjectSize RandomSize(DeterministicRandom rng) => rng.NextInt(2) == 0 ? ObjectSize.Small : ObjectSize.Large;

    private static ObjectSize Other(ObjectSize size) => size == ObjectSize.Small ? ObjectSize.Large : ObjectSize.Small;

    private static SpatialRelation Opposite(SpatialRelation relation) => relation switch
    {
        SpatialRelation.Left => SpatialRelation.Right,
        SpatialRelation.Right => SpatialRelation.Left,
        SpatialRelation.Above => SpatialRelation.Below,
        _ => SpatialRelation.Above,
    };
}
