using System.Globalization;
using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;
using FailureSynth.World.Skills;

namespace FailureSynth.World;

/// <summary>
/// A named sampling distribution of ShapesWorld samples. The weights are the declared
/// frequencies the generator realises exactly in expectation:
/// <see cref="Families"/> per sample; <see cref="Colors"/> for every object colour the generator
/// chooses (count targets, queried objects, described objects, distractors);
/// <see cref="Shapes"/> likewise; <see cref="Counts"/> for the answer of count and arith
/// questions; <see cref="Relations"/>, <see cref="QueryAttributes"/>,
/// <see cref="SameAttributes"/>, <see cref="Comparisons"/> and <see cref="ArithOperations"/>
/// within their family; <see cref="YesProbability"/> for the answer of yes/no families.
/// </summary>
public sealed record Profile(
    string Name,
    string Description,
    WeightTable<QuestionFamily> Families,
    WeightTable<ObjectColor> Colors,
    WeightTable<ObjectShape> Shapes,
    WeightTable<CountBucket> Counts,
    WeightTable<SpatialRelation> Relations,
    WeightTable<ObjectAttribute> QueryAttributes,
    WeightTable<ObjectAttribute> SameAttributes,
    WeightTable<CountComparison> Comparisons,
    WeightTable<ArithOperation> ArithOperations,
    int MinObjects,
    int MaxObjects,
    double MinNoiseAmplitude,
    double MaxNoiseAmplitude,
    double YesProbability)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the profile and the bad field when the profile cannot be sampled.</summary>
    public void Validate()
    {
        string Where(string field) => $"Profile '{Name}': {field}";
        if (string.IsNullOrWhiteSpace(Name))
            throw new ArgumentException("A profile needs a non-empty name.", nameof(Name));
        if (MinObjects < 1 || MaxObjects > Scene.MaxObjects || MinObjects > MaxObjects)
            throw new ArgumentException(Where($"object count range {MinObjects}..{MaxObjects} must lie within 1..{Scene.MaxObjects} with min <= max."));
        if (!(MinNoiseAmplitude >= 0) || !(MaxNoiseAmplitude >= MinNoiseAmplitude) || MaxNoiseAmplitude > 1)
            throw new ArgumentException(Where(string.Create(CultureInfo.InvariantCulture,
                $"noise amplitude range {MinNoiseAmplitude}..{MaxNoiseAmplitude} must lie within 0..1 with min <= max.")));
        if (!(YesProbability >= 0 && YesProbability <= 1))
            throw new ArgumentException(Where(string.Create(CultureInfo.InvariantCulture,
                $"yes probability {YesProbability} must lie within 0..1.")));
    }
}
