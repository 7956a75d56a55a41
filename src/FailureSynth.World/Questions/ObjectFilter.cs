using FailureSynth.World.Scenes;

namespace FailureSynth.World.Questions;

/// <summary>
/// A description of objects by optional shape, colour and size ("the large red circle",
/// "cyan objects"): the way every question refers to objects. An unspecified attribute matches
/// anything.
/// </summary>
public sealed record ObjectFilter(ObjectShape? Shape = null, ObjectColor? Color = null, ObjectSize? Size = null)
{
    public bool Matches(SceneObject obj) =>
        (Shape is null || obj.Shape == Shape) &&
        (Color is null || obj.Color == Color) &&
        (Size is null || obj.Size == Size);

    public bool Specifies(ObjectAttribute attribute) => attribute switch
    {
        ObjectAttribute.Shape => Shape is not null,
        ObjectAttribute.Color => Color is not null,
        ObjectAttribute.Size => Size is not null,
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, "unknown attribute"),
    };

    public int SpecifiedCount() => (Shape is null ? 0 : 1) + (Color is null ? 0 : 1) + (Size is null ? 0 : 1);

    /// <summary>
    /// True when no object can match both filters: both name the same attribute with different
    /// values. Two-description questions use disjoint filters so that their counts add up and
    /// "the X" and "the Y" are different objects.
    /// </summary>
    public bool IsDisjointFrom(ObjectFilter other) =>
        (Shape is not null && other.Shape is not null && Shape != other.Shape) ||
        (Color is not null && other.Color is not null && Color != other.Color) ||
        (Size is not null && other.Size is not null && Size != other.Size);

    /// <summary>Number of objects of <paramref name="scene"/> this filter matches.</summary>
    public int CountIn(Scene scene)
    {
        int n = 0;
        foreach (SceneObject o in scene.Objects)
            if (Matches(o)) n++;
        return n;
    }

    /// <summary>The noun phrase without article: "large red circle" or, plural, "large red circles"; "object(s)" when no shape is named.</summary>
    public string Phrase(bool plural)
    {
        var words = new List<string>(4);
        if (Size is { } size) words.Add(AnswerWords.Of(size));
        if (Color is { } color) words.Add(AnswerWords.Of(color));
        string noun = Shape is { } shape ? AnswerWords.Of(shape) : "object";
        words.Add(plural ? noun + "s" : noun);
        return string.Join(' ', words);
    }

    /// <summary>"a large red circle", "an orange square", "an object".</summary>
    public string WithIndefiniteArticle()
    {
        string phrase = Phrase(plural: false);
        return ("aeiou".Contains(phrase[0]) ? "an " : "a ") + phrase;
    }

    /// <summary>The same filter with <paramref name="attribute"/> left unspecified.</summary>
    public ObjectFilter Without(ObjectAttribute attribute) => attribute switch
    {
        ObjectAttribute.Shape => this with { Shape = null },
        ObjectAttribute.Color => this with { Color = null },
        ObjectAttribute.Size => this with { Size = null },
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, "unknown attribute"),
    };

    public override string ToString() => Phrase(plural: false);
}
