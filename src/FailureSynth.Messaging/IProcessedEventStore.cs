namespace FailureSynth.Messaging;

/// <summary>
/// Remembers which handler has finished which event, so that a redelivered event is
/// acknowledged without running the handler again. Marked after the handler succeeded, so a
/// crash mid-handler leads to a retry, never to a lost event.
/// </summary>
public interface IProcessedEventStore
{
    /// <summary>True when <paramref name="handler"/> has already finished the event.</summary>
    Task<bool> IsProcessedAsync(string handler, string eventId, CancellationToken cancellationToken = default);

    /// <summary>Records that the handler finished the event; false when it was already recorded.</summary>
    Task<bool> TryMarkProcessedAsync(string handler, string eventId, CancellationToken cancellationToken = default);
}

/// <summary>
/// Process-local <see cref="IProcessedEventStore"/>: enough for one replica; replicas share a Redis
/// one. Keeps the most recent <c>capacity</c> marks: an event redelivered after that many others
/// runs its (idempotent) handler again rather than letting memory grow without bound.
/// </summary>
public sealed class InMemoryProcessedEventStore(int capacity = 1_000_000) : IProcessedEventStore
{
    private readonly Lock _lock = new();
    private readonly HashSet<(string Handler, string EventId)> _processed = [];
    private readonly Queue<(string Handler, string EventId)> _oldestFirst = new();

    public int Capacity { get; } = capacity > 0
        ? capacity
        : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The processed-event store needs room for at least one mark.");

    public int Count
    {
        get
        {
            lock (_lock) return _processed.Count;
        }
    }

    public Task<bool> IsProcessedAsync(string handler, string eventId, CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult(_processed.Contains((handler, eventId)));
    }

    public Task<bool> TryMarkProcessedAsync(string handler, string eventId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_processed.Add((handler, eventId))) return Task.FromResult(false);
            _oldestFirst.Enqueue((handler, eventId));
            if (_oldestFirst.Count > Capacity) _processed.Remove(_oldestFirst.Dequeue());
            return Task.FromResult(true);
        }
    }
}
