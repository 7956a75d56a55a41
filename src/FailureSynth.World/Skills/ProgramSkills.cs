using FailureSynth.World.Questions;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Skills;

/// <summary>Maps a program (and, for skills that depend on the answer, its scene) onto its canonical skill keys.</summary>
public static class ProgramSkills
{
    /// <summary>
    /// The 1..3 skills <paramref name="program"/> exercises on <paramref name="scene"/>, most
    /// specific last. Count skills are bucketed by the executed count and query skills carry the
    /// executed answer, so the keys describe what the question really tested.
    /// </summary>
    public static IReadOnlyList<string> For(QuestionProgram program, Scene scene)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(scene);
        return [.. KeysFor(program, scene).Select(k => k.ToString())];
    }

    public static IReadOnlyList<SkillKey> KeysFor(QuestionProgram program, Scene scene)
    {
        switch (program)
        {
            case ExistProgram p:
            {
                if (p.Target.Shape is not { } shape)
                    throw new ArgumentException(
                        $"The exist question about '{p.Target}' names no shape, but exist skills are keyed by shape (exist/shape=...). Add a shape to its target.",
                        nameof(program));
                var keys = new List<SkillKey> { new(QuestionFamily.Exist, Shape: shape) };
                if (p.Target.Color is { } color) keys.Add(new(QuestionFamily.Exist, Color: color));
                return keys;
            }
            case CountProgram p:
                if (p.Target.Color is not { } countColor)
                    throw new ArgumentException(
                        $"The count question about '{p.Target.Phrase(true)}' names no colour, but count skills are keyed by colour (count/color=.../n=...). Add a colour to its target.",
                        nameof(program));
                return [new(QuestionFamily.Count, Color: countColor, Bucket: CountBuckets.Of(p.Target.CountIn(scene)))];
            case QueryProgram p:
            {
                SceneObject target = ProgramExecutor.TheOne(p.Target, scene);
                SkillKey specific = p.Attribute switch
                {
                    ObjectAttribute.Color => new(QuestionFamily.Query, Attribute: p.Attribute, Color: target.Color),
                    ObjectAttribute.Shape => new(QuestionFamily.Query, Attribute: p.Attribute, Shape: target.Shape),
                    _ => new(QuestionFamily.Query, Attribute: p.Attribute, Size: target.Size),
                };
                return [new(QuestionFamily.Query, Attribute: p.Attribute), specific];
            }
            case CompareProgram p:
                return [new(QuestionFamily.Compare), new(QuestionFamily.Compare, Comparison: p.Comparison)];
            case RelateProgram p:
                return [new(QuestionFamily.Relate, Relation: p.Relation)];
            case SameProgram p:
                return [new(QuestionFamily.Same, Attribute: p.Attribute)];
            case ArithProgram p:
                return [new(QuestionFamily.Arith, Operation: p.Operation)];
            default:
                throw new ArgumentException($"Unknown program type {program.GetType().Name}.", nameof(program));
        }
    }
}
