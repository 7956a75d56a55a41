using System.Globalization;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Questions;

/// <summary>
/// Ground truth: executes a question program on a scene and returns its exact canonical answer.
/// Everything else (generation intents, reasoning steps, skills) is checked against this.
/// </summary>
public static class ProgramExecutor
{
    /// <summary>
    /// Minimum distance between two centres along the asked axis for a spatial relation to be
    /// unambiguous. One small radius: large enough that the 0..20 position scale of the
    /// reasoning steps (steps of 0.05) always orders the two objects the same way.
    /// </summary>
    public const double RelationMargin = SceneGeometry.SmallRadius;

    /// <summary>The 0..20 scale positions are reported on in reasoning steps.</summary>
    public const int PositionScale = 20;

    public static string Execute(QuestionProgram program, Scene scene)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(scene);
        return program switch
        {
            ExistProgram p => AnswerWords.YesNo(p.Target.CountIn(scene) > 0),
            CountProgram p => AnswerWords.Number(p.Target.CountIn(scene)),
            QueryProgram p => AnswerWords.Of(TheOne(p.Target, scene), p.Attribute),
            CompareProgram p => AnswerWords.YesNo(Holds(p.Comparison, p.First.CountIn(scene), p.Second.CountIn(scene))),
            RelateProgram p => AnswerWords.YesNo(Holds(p.Relation, TheOne(p.Subject, scene), TheOne(p.Reference, scene))),
            SameProgram p => AnswerWords.YesNo(
                AnswerWords.Of(TheOne(p.First, scene), p.Attribute) == AnswerWords.Of(TheOne(p.Second, scene), p.Attribute)),
            ArithProgram p => AnswerWords.Number(Apply(p.Operation, p.First.CountIn(scene), p.Second.CountIn(scene))),
            _ => throw new ArgumentException($"Unknown program type {program.GetType().Name}.", nameof(program)),
        };
    }

    /// <summary>
    /// The ways in which <paramref name="program"/> is not a fair question about
    /// <paramref name="scene"/>: "the X" not matching exactly one object, a spatial relation
    /// closer than <see cref="RelationMargin"/>, a description that gives the answer away, or
    /// overlapping descriptions where counts must add up. Empty when the question is well posed.
    /// </summary>
    public static IReadOnlyList<string> FindProblems(QuestionProgram program, Scene scene)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(scene);
        var problems = new List<string>();
        foreach (ObjectFilter reference in program.UniqueReferences())
        {
            int n = reference.CountIn(scene);
            if (n != 1)
                problems.Add($"'the {reference.Phrase(false)}' matches {n} objects instead of exactly one");
        }
        switch (program)
        {
            case QueryProgram p when p.Target.Specifies(p.Attribute):
                problems.Add($"'the {p.Target.Phrase(false)}' already names the {QuestionKeys.Of(p.Attribute)} that is asked");
                break;
            case RelateProgram p:
                if (!p.Subject.IsDisjointFrom(p.Reference))
                    problems.Add($"'{p.Subject}' and '{p.Reference}' could describe the same object");
                else if (problems.Count == 0)
                {
                    double gap = AxisGap(p.Relation, TheOne(p.Subject, scene), TheOne(p.Reference, scene));
                    if (gap < RelationMargin)
                        problems.Add(string.Create(CultureInfo.InvariantCulture,
                            $"the centres are only {gap:0.000} apart along the asked axis; at least {RelationMargin} is needed"));
                }
                break;
            case SameProgram p:
                if (!p.First.IsDisjointFrom(p.Second))
                    problems.Add($"'{p.First}' and '{p.Second}' could describe the same object");
                if (p.First.Specifies(p.Attribute) || p.Second.Specifies(p.Attribute))
                    problems.Add($"a description already names the {QuestionKeys.Of(p.Attribute)} that is compared");
                break;
            case CompareProgram p when !p.First.IsDisjointFrom(p.Second):
                problems.Add($"'{p.First}' and '{p.Second}' overlap, so one object could count for both");
                break;
            case ArithProgram p:
                if (!p.First.IsDisjointFrom(p.Second))
                    problems.Add($"'{p.First}' and '{p.Second}' overlap, so one object could count for both");
                // "How many more X than Y" presupposes that X are at least as many as Y.
                if (p.Operation == ArithOperation.Difference && p.First.CountIn(scene) < p.Second.CountIn(scene))
                    problems.Add($"asks how many more '{p.First.Phrase(true)}' than '{p.Second.Phrase(true)}' there are, but there are fewer");
                break;
        }
        return problems;
    }

    /// <summary>Position of a normalised coordinate on the 0..20 scale used by reasoning steps.</summary>
    public static int OnPositionScale(double coordinate) =>
        (int)Math.Round(coordinate * PositionScale, MidpointRounding.AwayFromZero);

    /// <summary>True when the spatial relation is read along the horizontal axis.</summary>
    public static bool IsHorizontal(SpatialRelation relation) => relation is SpatialRelation.Left or SpatialRelation.Right;

    /// <summary>The single object <paramref name="filter"/> describes; throws when it describes none or several.</summary>
    public static SceneObject TheOne(ObjectFilter filter, Scene scene)
    {
        SceneObject? found = null;
        int n = 0;
        foreach (SceneObject o in scene.Objects)
        {
            if (!filter.Matches(o)) continue;
            found = o;
            n++;
        }
        if (n != 1 || found is null)
            throw new InvalidOperationException(
                $"The question refers to 'the {filter.Phrase(false)}', but the scene has {n} such objects. " +
                "Questions that say 'the X' need exactly one matching object; check the program with ProgramExecutor.FindProblems first.");
        return found;
    }

    internal static bool Holds(CountComparison comparison, int first, int second) => comparison switch
    {
        CountComparison.More => first > second,
        CountComparison.Fewer => first < second,
        CountComparison.Equal => first == second,
        _ => throw new ArgumentOutOfRangeException(nameof(comparison), comparison, "unknown comparison"),
    };

    internal static int Apply(ArithOperation operation, int first, int second) => operation switch
    {
        ArithOperation.Sum => first + second,
        ArithOperation.Difference => Math.Abs(first - second),
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "unknown operation"),
    };

    private static bool Holds(SpatialRelation relation, SceneObject subject, SceneObject reference) => relation switch
    {
        SpatialRelation.Left => subject.X < reference.X,
        SpatialRelation.Right => subject.X > reference.X,
        SpatialRelation.Above => subject.Y < reference.Y,
        SpatialRelation.Below => subject.Y > reference.Y,
        _ => throw new ArgumentOutOfRangeException(nameof(relation), relation, "unknown relation"),
    };

    private static double AxisGap(SpatialRelation relation, SceneObject a, SceneObject b) =>
        IsHorizontal(relation) ? Math.Abs(a.X - b.X) : Math.Abs(a.Y - b.Y);
}
