using System.Collections.Concurrent;
using System.Globalization;

namespace FailureSynth.Trainer;

/// <summary>
/// Hands the replies that arrive on the Trainer's queue to the request waiting for them. A request is registered
/// before it is published; replies are keyed by index, so a redelivered reply counts once; replies to requests
/// nobody waits for (an earlier run of the Trainer) are dropped.
/// </summary>
public sealed class ReplyRouter
{
    private readonly ConcurrentDictionary<string, IPending> _pending = new(StringComparer.Ordinal);

    public PendingReplies<T> Expect<T>(string requestId, string worker, int? expected)
    {
        var pending = new PendingReplies<T>(requestId, worker, expected, () => _pending.TryRemove(requestId, out _));
        if (!_pending.TryAdd(requestId, pending)) throw new InvalidOperationException($"Request {requestId} is already waiting for replies.");
        return pending;
    }

    /// <summary>False when no request waits for <paramref name="requestId"/>.</summary>
    public bool Deliver<T>(string requestId, int index, T item) =>
        _pending.TryGetValue(requestId, out var p) && p is PendingReplies<T> typed && typed.Add(index, item);

    public bool SetExpected(string requestId, int expected)
    {
        if (!_pending.TryGetValue(requestId, out var p)) return false;
        p.SetExpected(expected);
        return true;
    }

    public int Waiting => _pending.Count;

    internal interface IPending
    {
        void SetExpected(int expected);
    }
}

/// <summary>The replies of one request, collected until <c>expected</c> have arrived.</summary>
public sealed class PendingReplies<T> : ReplyRouter.IPending, IDisposable
{
    private readonly ConcurrentDictionary<int, T> _items = new();
    private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action _unregister;
    private int _expected;
    private long _lastArrivalTicks = DateTime.UtcNow.Ticks;

    internal PendingReplies(string requestId, string worker, int? expected, Action unregister)
    {
        RequestId = requestId;
        Worker = worker;
        _expected = expected ?? -1;
        _unregister = unregister;
        if (expected == 0) _complete.TrySetResult();
    }

    public string RequestId { get; }
    public string Worker { get; }
    public int Count => _items.Count;

    /// <summary>Called with the number of replies so far, as they arrive.</summary>
    public Action<int>? Arrived { get; set; }

    internal bool Add(int index, T item)
    {
        if (!_items.TryAdd(index, item)) return false;
        Interlocked.Exchange(ref _lastArrivalTicks, DateTime.UtcNow.Ticks);
        Arrived?.Invoke(_items.Count);
        CheckComplete();
        return true;
    }

    void ReplyRouter.IPending.SetExpected(int expected)
    {
        Volatile.Write(ref _expected, expected);
        Interlocked.Exchange(ref _lastArrivalTicks, DateTime.UtcNow.Ticks);
        CheckComplete();
    }

    private void CheckComplete()
    {
        int expected = Volatile.Read(ref _expected);
        if (expected >= 0 && _items.Count >= expected) _complete.TrySetResult();
    }

    /// <summary>
    /// The replies in index order once all arrived. Throws <see cref="TimeoutException"/> when none arrived for
    /// <paramref name="stall"/> (a worker is down for good, or the request went to a dead-letter queue).
    /// </summary>
    public async Task<IReadOnlyList<T>> WaitAsync(TimeSpan stall, CancellationToken cancellationToken)
    {
        while (!_complete.Task.IsCompleted)
        {
            var idle = DateTime.UtcNow - new DateTime(Interlocked.Read(ref _lastArrivalTicks), DateTimeKind.Utc);
            if (idle >= stall)
            {
                int expected = Volatile.Read(ref _expected);
                string of = expected < 0 ? "?" : expected.ToString(CultureInfo.InvariantCulture);
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"No reply from {Worker} for {stall.TotalSeconds:0} s on request {RequestId}: {_items.Count} of {of} replies arrived. ") +
                    "Check that those services run, and their dead-letter queues (failuresynth.<service>.dead) for refused messages.");
            }
            var wait = stall - idle;
            await Task.WhenAny(_complete.Task, Task.Delay(wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
        return [.. _items.OrderBy(p => p.Key).Select(p => p.Value)];
    }

    public void Dispose() => _unregister();
}
