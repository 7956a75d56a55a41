using FailureSynth.Messaging;
using StackExchange.Redis;

namespace FailureSynth.Caching;

/// <summary>
/// The processed-event marks of every replica in one Redis, so that an event redelivered to another
/// replica is not handled twice. Redis failures propagate: the consumer then leaves the message
/// unacknowledged and it is retried, rather than guessing whether the handler already ran.
/// </summary>
public sealed class RedisProcessedEventStore(IDatabase database, string prefix = RedisKeys.Root, TimeSpan? ttl = null) : IProcessedEventStore
{
    private readonly IDatabase _database = database ?? throw new ArgumentNullException(nameof(database));

    public string Prefix { get; } = string.IsNullOrWhiteSpace(prefix)
        ? throw new ArgumentException($"The key prefix '{prefix}' is empty; pass the prefix the replicas share (\"{RedisKeys.Root}\" by default).", nameof(prefix))
        : prefix;

    /// <summary>
    /// How long a mark lasts; null (the default) keeps it for the life of the Redis data. A TTL longer
    /// than the broker's redelivery window bounds memory without letting a redelivery through.
    /// </summary>
    public TimeSpan? Ttl { get; } = RedisKeys.Ttl(ttl, nameof(ttl));

    public Task<bool> IsProcessedAsync(string handler, string eventId, CancellationToken cancellationToken = default) =>
        _database.KeyExistsAsync(Key(handler, eventId));

    public Task<bool> TryMarkProcessedAsync(string handler, string eventId, CancellationToken cancellationToken = default) =>
        _database.StringSetAsync(Key(handler, eventId), "1", Ttl, When.NotExists);

    private string Key(string handler, string eventId)
    {
        if (string.IsNullOrEmpty(handler))
            throw new ArgumentException($"The handler name for event '{eventId}' is empty; pass the handler's stable name (service and type).", nameof(handler));
        if (string.IsNullOrEmpty(eventId))
            throw new ArgumentException($"The event id for handler '{handler}' is empty; pass IntegrationEvent.Id.", nameof(eventId));
        return RedisKeys.Processed(Prefix, handler, eventId);
    }
}
