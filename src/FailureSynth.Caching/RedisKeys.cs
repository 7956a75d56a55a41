namespace FailureSynth.Caching;

/// <summary>The names of FailureSynth's Redis keys, in one place so that every replica spells them alike.</summary>
public static class RedisKeys
{
    /// <summary>The prefix of every FailureSynth key.</summary>
    public const string Root = "fs";

    /// <summary>The mark that a handler has finished an event.</summary>
    public static string Processed(string prefix, string handler, string eventId) => $"{prefix}:processed:{handler}:{eventId}";

    /// <summary>Checks an optional expiry: null (keep forever) or positive.</summary>
    internal static TimeSpan? Ttl(TimeSpan? ttl, string parameterName) =>
        ttl is { } value && value <= TimeSpan.Zero
            ? throw new ArgumentOutOfRangeException(parameterName, value, "The time to live must be positive; leave it null for keys that do not expire.")
            : ttl;
}
