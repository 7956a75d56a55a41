namespace FailureSynth.Caching;

/// <summary>The names of FailureSynth's Redis keys, in one place so that every replica spells them alike.</summary>
public static class RedisKeys
{
    /// <summary>The prefix of every FailureSynth key.</summary>
    public const string Root = "fs";

    /// <summary>The key that records which sample claimed a near-duplicate key in a campaign.</summary>
    public static string Duplicate(string campaignId, string duplicateKey) => $"{Root}:{campaignId}:dup:{duplicateKey}";

    /// <summary>The hash of a campaign's per-stage progress counters.</summary>
    public static string Progress(string campaignId) => $"{Root}:{campaignId}:progress";

    /// <summary>The mark that a handler has finished an event.</summary>
    public static string Processed(string prefix, string handler, string eventId) => $"{prefix}:processed:{handler}:{eventId}";

    /// <summary>Checks a campaign id used in key names; the message says what to pass instead.</summary>
    internal static string CampaignId(string campaignId, string parameterName) =>
        string.IsNullOrWhiteSpace(campaignId)
            ? throw new ArgumentException($"The campaign id '{campaignId}' is empty; pass the id of the campaign whose Redis state this is (e.g. the campaign file's id).", parameterName)
            : campaignId;

    /// <summary>Checks an optional expiry: null (keep forever) or positive.</summary>
    internal static TimeSpan? Ttl(TimeSpan? ttl, string parameterName) =>
        ttl is { } value && value <= TimeSpan.Zero
            ? throw new ArgumentOutOfRangeException(parameterName, value, "The time to live must be positive; leave it null for keys that do not expire.")
            : ttl;
}
