using System.Globalization;
using FailureSynth.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FailureSynth.Caching;

/// <summary>
/// A campaign's live per-stage counters (proposals generated, samples accepted, …), one Redis hash that
/// every replica increments. They feed dashboards, not results: when Redis fails, an increment is
/// dropped and a read comes back empty, with the outage logged, and the campaign carries on.
/// </summary>
public sealed class CampaignProgressCounters(IRedisDatabase database, string campaignId, ILogger? logger = null)
{
    private const string Component = "campaign progress counters";

    private readonly IRedisDatabase _database = database ?? throw new ArgumentNullException(nameof(database));
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly RedisOutage _outage = new(Component, logger ?? NullLogger.Instance);

    public string CampaignId { get; } = RedisKeys.CampaignId(campaignId, nameof(campaignId));

    /// <summary>The hash holding the counters, <c>fs:{campaignId}:progress</c>.</summary>
    public string RedisKey => RedisKeys.Progress(CampaignId);

    /// <summary>True from a Redis failure until Redis next answers these counters.</summary>
    public bool IsRedisUnavailable => _outage.IsDown;

    /// <summary>Adds <paramref name="by"/> to the stage's counter: its new value, or null when Redis failed and the increment was dropped.</summary>
    public async Task<long?> IncrementAsync(string stage, long by = 1, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(stage))
            throw new ArgumentException($"The stage name for campaign '{CampaignId}' is empty; pass the stage being counted, e.g. \"filter.accepted\".", nameof(stage));
        long value;
        try
        {
            value = await _database.HashIncrementAsync(RedisKey, stage, by, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisOutage.IsRedisFailure(e))
        {
            _outage.Failed(e, "HINCRBY", RedisKey);
            return null;
        }
        _outage.Answered();
        return value;
    }

    /// <summary>Every stage's counter, in ordinal order of stage name; empty when none was counted yet or Redis failed.</summary>
    public async Task<IReadOnlyDictionary<string, long>> GetAllAsync(CancellationToken cancellationToken = default)
    {
        var counters = new SortedDictionary<string, long>(StringComparer.Ordinal);
        HashEntry[] entries;
        try
        {
            entries = await _database.HashGetAllAsync(RedisKey, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisOutage.IsRedisFailure(e))
        {
            _outage.Failed(e, "HGETALL", RedisKey);
            return counters;
        }
        _outage.Answered();
        foreach (HashEntry entry in entries)
        {
            if (entry.Value.TryParseInt64(out long value))
                counters[entry.Name] = value;
            else
                CachingLog.NonIntegerCounter(_logger, Component, RedisKey, entry.Name, entry.Value.ToString());
        }
        return counters;
    }
}
