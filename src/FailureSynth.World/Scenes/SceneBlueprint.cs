using FailureSynth.World.Questions;

namespace FailureSynth.World.Scenes;

/// <summary>The look of an object before it is placed: shape, colour and size.</summary>
public sealed record ObjectLook(ObjectShape Shape, ObjectColor Color, ObjectSize Size)
{
    public SceneObject At(double x, double y) => new(Shape, Color, Size, x, y);

    public bool MatchesAny(IReadOnlyList<ObjectFilter> filters)
    {
        SceneObject probe = At(0, 0);
        foreach (ObjectFilter f in filters)
            if (f.Matches(probe)) return true;
        return false;
    }
}

/// <summary>Requires <c>Required[Subject]</c> to lie in <see cref="Relation"/> to <c>Required[Reference]</c> by at least <see cref="ProgramExecutor.RelationMargin"/>.</summary>
public sealed record RelativePlacement(int Subject, int Reference, SpatialRelation Relation);

/// <summary>
/// What a scene must contain for a question to have its intended answer: the required objects
/// (exactly these match the question's descriptions), the descriptions no distractor may match
/// (so counts and "the X" stay exact), the total number of objects wanted, and an optional
/// spatial constraint between two required objects.
/// </summary>
public sealed record SceneBlueprint(
    IReadOnlyList<ObjectLook> Required,
    IReadOnlyList<ObjectFilter> Reserved,
    int TotalObjects,
    RelativePlacement? Placement = null);
