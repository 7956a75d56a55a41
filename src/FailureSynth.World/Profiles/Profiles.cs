using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.World;

/// <summary>The shipped sampling profiles: <c>balanced</c> (the test distribution) and <c>base-skewed</c> (a student's training distribution with rare skills).</summary>
public static class Profiles
{
    public const string BalancedName = "balanced";
    public const string BaseSkewedName = "base-skewed";

    /// <summary>Weight of a rare value relative to a common one (weight 1) in <c>base-skewed</c>.</summary>
    public const double RareWeight = 0.02;

    /// <summary>Uniform over families, colours, shapes, relations, count buckets and attributes; yes/no answers 50/50.</summary>
    public static Profile Balanced { get; } = new(
        Name: BalancedName,
        Description: "Test distribution: uniform over question families, colours, shapes, spatial relations, count buckets, " +
                     "queried and compared attributes, comparisons and arithmetic; yes/no answers 50/50.",
        Families: WeightTable<QuestionFamily>.Uniform(),
        Colors: WeightTable<ObjectColor>.Uniform(),
        Shapes: WeightTable<ObjectShape>.Uniform(),
        Counts: WeightTable<CountBucket>.Uniform(),
        Relations: WeightTable<SpatialRelation>.Uniform(),
        QueryAttributes: WeightTable<ObjectAttribute>.Uniform(),
        SameAttributes: WeightTable<ObjectAttribute>.Uniform(),
        Comparisons: WeightTable<CountComparison>.Uniform(),
        ArithOperations: WeightTable<ArithOperation>.Uniform(),
        MinObjects: 1,
        // At most 6 objects (Scene allows 10): with 10, TinyVLM trained on 20k samples in the 5-minute budget
        // plateaued at 41 % (direct) on the balanced test; with 6 it reaches 52 % direct, 63 % reasoning.
        MaxObjects: 6,
        MinNoiseAmplitude: 0,
        MaxNoiseAmplitude: 0.06,
        YesProbability: 0.5);

    /// <summary>
    /// The base training distribution: like <see cref="Balanced"/> except that a few skills get
    /// <see cref="RareWeight"/> of a common skill's weight, so that a student trained on it has
    /// systematic, data-caused weaknesses.
    /// </summary>
    public static Profile BaseSkewed { get; } = Balanced with
    {
        Name = BaseSkewedName,
        Description = "Training distribution with rare skills (weight 0.02 against 1 for common ones): the near-pair colours " +
                      "cyan and orange (as count targets, queried colours, described objects and distractors), " +
                      "relate/above and relate/below (left/right common), arith/diff (arith/sum common), counts of five " +
                      "or more (n>=5), and same/size (same/color and same/shape common). Everything else as in 'balanced'.",
        Colors = WeightTable<ObjectColor>.Of(
            (ObjectColor.Red, 1), (ObjectColor.Orange, RareWeight), (ObjectColor.Yellow, 1), (ObjectColor.Green, 1),
            (ObjectColor.Cyan, RareWeight), (ObjectColor.Blue, 1), (ObjectColor.Purple, 1), (ObjectColor.Gray, 1)),
        Counts = WeightTable<CountBucket>.Of(
            (CountBucket.Zero, 1), (CountBucket.OneToTwo, 1), (CountBucket.ThreeToFour, 1), (CountBucket.FiveOrMore, RareWeight)),
        Relations = WeightTable<SpatialRelation>.Of(
            (SpatialRelation.Left, 1), (SpatialRelation.Right, 1), (SpatialRelation.Above, RareWeight), (SpatialRelation.Below, RareWeight)),
        SameAttributes = WeightTable<ObjectAttribute>.Of(
            (ObjectAttribute.Shape, 1), (ObjectAttribute.Color, 1), (ObjectAttribute.Size, RareWeight)),
        ArithOperations = WeightTable<ArithOperation>.Of(
            (ArithOperation.Sum, 1), (ArithOperation.Difference, RareWeight)),
    };

    public static IReadOnlyList<string> Names { get; } = [BalancedName, BaseSkewedName];

    /// <summary>The profile called <paramref name="name"/>; an unknown name gives an <see cref="ArgumentException"/> listing the known names.</summary>
    public static Profile Get(string name) => name switch
    {
        BalancedName => Balanced,
        BaseSkewedName => BaseSkewed,
        _ => throw new ArgumentException(
            $"Unknown ShapesWorld profile '{name}'. Known profiles: {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>
    /// A built-in profile by name, or else a profile file (<see cref="ProfileFile"/>) at that path: how campaigns and
    /// splits name their profile. A bad file gives a <see cref="ProfileFileException"/> naming the file and key.
    /// </summary>
    public static Profile Resolve(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        return Names.Contains(nameOrPath) ? Get(nameOrPath) : ProfileFile.Read(nameOrPath);
    }

    /// <summary>
    /// What a cache key should hold for <paramref name="nameOrPath"/>: the name of a built-in profile, or the file's
    /// content as a profile file writes it, so that a moved file keeps and an edited file loses its cached results.
    /// </summary>
    public static string Fingerprint(string nameOrPath) =>
        Names.Contains(nameOrPath) ? nameOrPath : "file:" + ProfileFile.Write(ProfileFile.Read(nameOrPath));
}
