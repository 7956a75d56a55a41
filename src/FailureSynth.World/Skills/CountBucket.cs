using System.Text.Json.Serialization;

namespace FailureSynth.World.Skills;

/// <summary>Coarse count ranges that count skills are split by: counting "none" and counting "five or more" are different skills.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CountBucket>))]
public enum CountBucket { Zero, OneToTwo, ThreeToFour, FiveOrMore }

/// <summary>Keys, membership and generation ranges of <see cref="CountBucket"/>.</summary>
public static class CountBuckets
{
    /// <summary>Largest count the generator asks for; keeps scenes learnable at 64x64 pixels.</summary>
    public const int MaxGeneratedCount = 8;

    public static CountBucket Of(int count) => count switch
    {
        < 0 => throw new ArgumentOutOfRangeException(nameof(count), count, "a count cannot be negative"),
        0 => CountBucket.Zero,
        <= 2 => CountBucket.OneToTwo,
        <= 4 => CountBucket.ThreeToFour,
        _ => CountBucket.FiveOrMore,
    };

    public static string Key(CountBucket bucket) => bucket switch
    {
        CountBucket.Zero => "n=0",
        CountBucket.OneToTwo => "n=1-2",
        CountBucket.ThreeToFour => "n=3-4",
        CountBucket.FiveOrMore => "n>=5",
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "unknown count bucket"),
    };

    /// <summary>Plain-English range: "none", "one or two", "three or four", "five or more".</summary>
    public static string Words(CountBucket bucket) => bucket switch
    {
        CountBucket.Zero => "none",
        CountBucket.OneToTwo => "one or two",
        CountBucket.ThreeToFour => "three or four",
        CountBucket.FiveOrMore => "five or more",
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "unknown count bucket"),
    };

    /// <summary>Inclusive range of counts the generator draws from for a bucket.</summary>
    public static (int Min, int Max) GeneratedRange(CountBucket bucket) => bucket switch
    {
        CountBucket.Zero => (0, 0),
        CountBucket.OneToTwo => (1, 2),
        CountBucket.ThreeToFour => (3, 4),
        CountBucket.FiveOrMore => (5, MaxGeneratedCount),
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "unknown count bucket"),
    };
}
