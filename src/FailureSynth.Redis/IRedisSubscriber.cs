namespace FailureSynth.Redis;

/// <summary>
/// Redis publish/subscribe, shaped like StackExchange.Redis's ISubscriber. Subscriptions live on
/// a connection of their own and are renewed after it reconnects; messages published while it
/// was down are lost, as Redis pub/sub always loses them. Handlers run one at a time, in the
/// order messages arrive, on the connection's reading thread: keep them short.
/// </summary>
public interface IRedisSubscriber
{
    /// <summary>True while the pub/sub connection is open.</summary>
    bool IsConnected { get; }

    /// <summary>Adds a handler for a channel; returns once the server confirmed the subscription.</summary>
    Task SubscribeAsync(string channel, Action<string, RedisValue> handler, CancellationToken cancellationToken = default);

    /// <summary>Removes one handler (or, with null, every handler) of a channel, unsubscribing when none is left.</summary>
    Task UnsubscribeAsync(string channel, Action<string, RedisValue>? handler = null, CancellationToken cancellationToken = default);
}
