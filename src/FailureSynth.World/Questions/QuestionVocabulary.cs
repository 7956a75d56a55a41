using System.Text.Json.Serialization;

namespace FailureSynth.World.Questions;

/// <summary>The seven question families of ShapesWorld; their lowercase names are the canonical family keys.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<QuestionFamily>))]
public enum QuestionFamily { Exist, Count, Query, Compare, Relate, Same, Arith }

/// <summary>An attribute of an object that a question can ask about or compare.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ObjectAttribute>))]
public enum ObjectAttribute { Shape, Color, Size }

/// <summary>A spatial relation between two objects, in image coordinates (Y grows downwards).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SpatialRelation>))]
public enum SpatialRelation { Left, Right, Above, Below }

/// <summary>How a compare question relates the count of its first description to its second.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CountComparison>))]
public enum CountComparison { More, Fewer, Equal }

/// <summary>The count arithmetic an arith question asks for.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ArithOperation>))]
public enum ArithOperation { Sum, Difference }

/// <summary>Canonical lowercase keys of the question enums, as used in skill keys and sample records.</summary>
public static class QuestionKeys
{
    public static string Of(QuestionFamily family) => family switch
    {
        QuestionFamily.Exist => "exist",
        QuestionFamily.Count => "count",
        QuestionFamily.Query => "query",
        QuestionFamily.Compare => "compare",
        QuestionFamily.Relate => "relate",
        QuestionFamily.Same => "same",
        QuestionFamily.Arith => "arith",
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "unknown question family"),
    };

    public static string Of(ObjectAttribute attribute) => attribute switch
    {
        ObjectAttribute.Shape => "shape",
        ObjectAttribute.Color => "color",
        ObjectAttribute.Size => "size",
        _ => throw new ArgumentOutOfRangeException(nameof(attribute), attribute, "unknown attribute"),
    };

    public static string Of(SpatialRelation relation) => relation switch
    {
        SpatialRelation.Left => "left",
        SpatialRelation.Right => "right",
        SpatialRelation.Above => "above",
        SpatialRelation.Below => "below",
        _ => throw new ArgumentOutOfRangeException(nameof(relation), relation, "unknown relation"),
    };

    public static string Of(CountComparison comparison) => comparison switch
    {
        CountComparison.More => "more",
        CountComparison.Fewer => "fewer",
        CountComparison.Equal => "equal",
        _ => throw new ArgumentOutOfRangeException(nameof(comparison), comparison, "unknown comparison"),
    };

    public static string Of(ArithOperation operation) => operation switch
    {
        ArithOperation.Sum => "sum",
        ArithOperation.Difference => "diff",
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "unknown operation"),
    };

    /// <summary>The family whose key is <paramref name="key"/>, e.g. "relate".</summary>
    public static bool TryParseFamily(string key, out QuestionFamily family)
    {
        foreach (QuestionFamily f in Enum.GetValues<QuestionFamily>())
        {
            if (Of(f) == key)
            {
                family = f;
                return true;
            }
        }
        family = default;
        return false;
    }
}
