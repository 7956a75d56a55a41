using System.Globalization;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Questions;

/// <summary>The kind of value a question's answer is; multiple-choice distractors are drawn from the same kind.</summary>
public enum AnswerKind { YesNo, Number, Color, Shape, Size }

/// <summary>
/// The canonical answer vocabulary: lowercase words and invariant-culture integers. Every
/// executor, reasoning step and choice option speaks exactly these words, so answers can be
/// compared as strings.
/// </summary>
public static class AnswerWords
{
    public const string Yes = "yes";
    public const string No = "no";

    /// <summary>Largest count answer the world produces (scenes hold at most <see cref="Scene.MaxObjects"/> objects; positions run 0..20).</summary>
    public const int MaxNumber = 20;

    public static string YesNo(bool value) => value ? Yes : No;

    public static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Of(ObjectColor color) => color switch
    {
        ObjectColor.Red => "red",
        ObjectColor.Orange => "orange",
        ObjectColor.Yellow => "yellow",
        ObjectColor.Green => "green",
        ObjectColor.Cyan => "cyan",
        ObjectColor.Blue => "blue",
        ObjectColor.Purple => "purple",
        ObjectColor.Gray => "gray",
        _ => throw new ArgumentOutOfRangeException(nameof(color), color, "unknown colour"),
    };

    public static string Of(ObjectShape shape) => shape switch
    {
        ObjectShape.Circle => "circle",
        ObjectShape.Square => "square",
        ObjectShape.Triangle => "triangle",
        ObjectShape.Diamond => "diamond",
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "unknown shape"),
    };

    public static string Of(ObjectSize size) => size switch
    {
        ObjectSize.Small => "small",
        ObjectSize.Large => "large",
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "unknown size"),
    };

    /// <summary>The canonical word for <paramref name="attribute"/> of <paramref name="obj"/>.</summary>
    public static string Of(SceneObject obj, ObjectAttribute attribute) => attribute switch
    {
        ObjectAttribute.Shape => Of(obj.Shape),
        ObjectAttribute.Color => Of(obj.Color),
        ObjectAttribute.Size => Of(obj.Size),
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, "unknown attribute"),
    };

    /// <summary>Every canonical word of an answer kind, in enum order (numbers 0..<see cref="MaxNumber"/>).</summary>
    public static IReadOnlyList<string> ValuesOf(AnswerKind kind) => kind switch
    {
        AnswerKind.YesNo => [Yes, No],
        AnswerKind.Number => [.. Enumerable.Range(0, MaxNumber + 1).Select(Number)],
        AnswerKind.Color => [.. Enum.GetValues<ObjectColor>().Select(Of)],
        AnswerKind.Shape => [.. Enum.GetValues<ObjectShape>().Select(Of)],
        AnswerKind.Size => [.. Enum.GetValues<ObjectSize>().Select(Of)],
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown answer kind"),
    };

    public static AnswerKind KindOf(ObjectAttribute attribute) => attribute switch
    {
        ObjectAttribute.Shape => AnswerKind.Shape,
        ObjectAttribute.Color => AnswerKind.Color,
        ObjectAttribute.Size => AnswerKind.Size,
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, "unknown attribute"),
    };

    /// <summary>
    /// The other member of a near colour pair (blue/cyan, red/orange), or null. These are the
    /// distinctions a weak student confuses, so they make the most informative distractors.
    /// </summary>
    public static ObjectColor? NearPartner(ObjectColor color) => color switch
    {
        ObjectColor.Blue => ObjectColor.Cyan,
        ObjectColor.Cyan => ObjectColor.Blue,
        ObjectColor.Red => ObjectColor.Orange,
        ObjectColor.Orange => ObjectColor.Red,
        _ => null,
    };

    /// <summary>Parses a canonical non-negative integer answer ("0".."20"); anything else is rejected.</summary>
    public static bool TryParseNumber(string? text, out int value)
    {
        value = 0;
        if (string.IsNullOrEmpty(text) || text.Length > 3) return false;
        foreach (char c in text)
            if (c is < '0' or > '9') return false;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
