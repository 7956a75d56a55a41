using FailureSynth.Loop.Filter;
using FailureSynth.Redis;

namespace FailureSynth.Caching;

/// <summary>
/// The near-duplicate keys a campaign has accepted, shared in Redis by every QualityFilter replica: the
/// first sample to claim a key owns it (SET NX of the sample id), and the owner asking again is told yes
/// again, so a redelivered message is filtered exactly as it was the first time. Redis failures propagate:
/// a wrong answer here would accept a duplicate or drop a sample, so the caller must retry instead.
/// </summary>
public sealed class RedisDuplicateRegistry(IRedisDatabase database, string campaignId, TimeSpan? ttl = null) : IDuplicateRegistry
{
    // A claim can vanish between the failed SET NX and the GET (its TTL ran out, or someone ran
    // FLUSHDB); claiming again is then right. Vanishing this many times in a row is no race any more.
    private const int MaxClaimAttempts = 5;

    private readonly IRedisDatabase _database = database ?? throw new ArgumentNullException(nameof(database));

    public string CampaignId { get; } = RedisKeys.CampaignId(campaignId, nameof(campaignId));

    /// <summary>How long a claim lasts; null (the default) keeps it for the life of the Redis data.</summary>
    public TimeSpan? Ttl { get; } = RedisKeys.Ttl(ttl, nameof(ttl));

    /// <summary>True when <paramref name="sampleId"/> now owns the key (it claimed it now or earlier); false when another sample does.</summary>
    /// <exception cref="RedisException">Redis failed or refused; the verdict is unknown, so retry.</exception>
    /// <exception cref="RedisTimeoutException">Redis did not answer in time; the verdict is unknown, so retry.</exception>
    public async Task<bool> TryAddAsync(string key, string sampleId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(key))
            throw new ArgumentException($"The near-duplicate key for sample '{sampleId}' is empty; pass QualityFilter.DuplicateKey(proposal).", nameof(key));
        if (string.IsNullOrEmpty(sampleId))
            throw new ArgumentException($"The sample id claiming near-duplicate key '{key}' is empty; the registry stores it to recognise redeliveries, so pass the proposal's id.", nameof(sampleId));

        string redisKey = RedisKeys.Duplicate(CampaignId, key);
        for (int attempt = 0; attempt < MaxClaimAttempts; attempt++)
        {
            if (await _database.StringSetAsync(redisKey, sampleId, Ttl, When.NotExists, cancellationToken).ConfigureAwait(false))
                return true;
            RedisValue owner = await _database.StringGetAsync(redisKey, cancellationToken).ConfigureAwait(false);
            if (owner.HasValue)
                return owner == sampleId;
        }
        throw new RedisException(
            $"The near-duplicate key '{redisKey}' disappeared {MaxClaimAttempts} times between claiming it and reading its owner; " +
            "something keeps deleting this campaign's keys (a very short TTL, or repeated FLUSHDB). Give the registry a longer TTL, or none, and retry.");
    }
}
