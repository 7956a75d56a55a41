using Microsoft.Extensions.Logging;

namespace FailureSynth.Redis;

/// <summary>
/// Publish/subscribe over a second connection of its own, opened on the first subscription.
/// It remembers every channel that has handlers, and each new socket subscribes them all again,
/// so subscriptions survive a reconnect.
/// </summary>
internal sealed class RedisSubscriber(RedisConfiguration configuration, ILogger logger)
    : IRedisSubscriber, IRedisSocketUser, IAsyncDisposable
{
    private const string LinkName = "pub/sub connection";

    private readonly object _gate = new();
    // Sorted so that a reconnect renews subscriptions in the same order every time.
    private readonly SortedDictionary<string, List<Action<string, RedisValue>>> _handlers = new(StringComparer.Ordinal);
    // One subscription change at a time, so SUBSCRIBE and UNSUBSCRIBE of a channel reach the server in the order they were asked for.
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private Task? _link;
    private SubscriberSession? _session;
    private TaskCompletionSource<SubscriberSession> _nextSession = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _lastError;
    private bool _everConnected;
    private int _reconnectCount;
    private bool _disposed;

    public bool IsConnected => Volatile.Read(ref _session)?.IsAlive == true;

    public async Task SubscribeAsync(string channel, Action<string, RedisValue> handler, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(handler);
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (!_handlers.TryGetValue(channel, out List<Action<string, RedisValue>>? handlers))
                    _handlers[channel] = handlers = [];
                handlers.Add(handler);
                _link ??= Task.Run(() => RedisReconnectLoop.RunAsync(configuration, this, _lifetime.Token));
            }
            try
            {
                await OnLiveSessionAsync($"SUBSCRIBE {channel}", (session, token) => session.SubscribeAsync(channel, token), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // The caller learns that the subscription failed, so it must not start delivering later.
                RemoveHandler(channel, handler);
                throw;
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    public async Task UnsubscribeAsync(string channel, Action<string, RedisValue>? handler = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!RemoveHandler(channel, handler)) return;
            // A socket that is down holds no subscriptions, and the next one will not renew this channel.
            if (Volatile.Read(ref _session) is not { IsAlive: true } session) return;
            try
            {
                await WithTimeoutAsync($"UNSUBSCRIBE {channel}", token => session.UnsubscribeAsync(channel, token), cancellationToken).ConfigureAwait(false);
            }
            catch (RedisConnectionException) when (!session.IsAlive)
            {
                // The socket failed meanwhile, which ended the subscription too.
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? link;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            link = _link;
        }
        _lifetime.Cancel();
        if (link is not null) await link.ConfigureAwait(false);
        _lifetime.Dispose();
    }

    /// <summary>Runs every handler of the channel, in the order they were added.</summary>
    internal void Deliver(string channel, RedisValue message)
    {
        Action<string, RedisValue>[] handlers;
        lock (_gate)
        {
            if (!_handlers.TryGetValue(channel, out List<Action<string, RedisValue>>? registered)) return;
            handlers = [.. registered];
        }
        foreach (Action<string, RedisValue> handler in handlers)
        {
            try
            {
                handler(channel, message);
            }
            catch (Exception e)
            {
                RedisLog.MessageHandlerFailed(logger, e, channel);
            }
        }
    }

    async Task IRedisSocketUser.ServeAsync(RedisSocket socket, CancellationToken cancellationToken)
    {
        var session = new SubscriberSession(socket, this);
        Task<Exception> run = session.RunAsync(cancellationToken);

        // Offered to callers at once: the session itself skips a SUBSCRIBE that is already underway or done.
        TaskCompletionSource<SubscriberSession> waiting;
        lock (_gate)
        {
            Volatile.Write(ref _session, session);
            waiting = _nextSession;
        }
        waiting.TrySetResult(session);

        string[] channels;
        lock (_gate)
            channels = [.. _handlers.Keys];
        try
        {
            foreach (string channel in channels)
                await session.SendSubscribeAsync(channel).ConfigureAwait(false);
        }
        catch (RedisConnectionException)
        {
            // The socket failed while renewing; run ends with the reason and the loop reconnects.
        }

        if (_everConnected)
            RedisLog.Reconnected(logger, LinkName, configuration.Endpoint, ++_reconnectCount);
        else
            RedisLog.Connected(logger, LinkName, configuration.Endpoint);
        _everConnected = true;

        Exception reason = await run.ConfigureAwait(false);
        Volatile.Write(ref _lastError, reason);
        lock (_gate)
            _nextSession = new(TaskCreationOptions.RunContinuationsAsynchronously);
        session.MarkEnded();
        if (!cancellationToken.IsCancellationRequested)
            RedisLog.ConnectionLost(logger, LinkName, configuration.Endpoint, reason.Message);
    }

    void IRedisSocketUser.OnConnectFailed(RedisConnectionException error, int consecutiveFailures)
    {
        Volatile.Write(ref _lastError, error);
        RedisLog.ConnectAttemptFailed(logger, LinkName, configuration.Endpoint, consecutiveFailures, error.Message);
    }

    // Runs the action on a live socket, moving on to the next socket when this one fails first.
    private Task OnLiveSessionAsync(string what, Func<SubscriberSession, CancellationToken, Task> action, CancellationToken cancellationToken) =>
        WithTimeoutAsync(what, async token =>
        {
            while (true)
            {
                SubscriberSession session = await NextLiveSessionAsync(token).ConfigureAwait(false);
                try
                {
                    await action(session, token).ConfigureAwait(false);
                    return;
                }
                catch (RedisConnectionException) when (!session.IsAlive)
                {
                    // The next socket renews every channel that has handlers, this one included.
                    await session.Ended.WaitAsync(token).ConfigureAwait(false);
                }
            }
        }, cancellationToken);

    private async Task WithTimeoutAsync(string what, Func<CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(configuration.CommandTimeout);
        try
        {
            await action(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            string why = IsConnected
                ? "the server did not confirm it"
                : $"the pub/sub connection to {configuration.Endpoint} is down ({Volatile.Read(ref _lastError)?.Message ?? "not connected yet"})";
            throw new RedisTimeoutException($"Redis {what} timed out after {(int)configuration.CommandTimeout.TotalMilliseconds} ms (syncTimeout): {why}.");
        }
    }

    private Task<SubscriberSession> NextLiveSessionAsync(CancellationToken cancellationToken)
    {
        Task<SubscriberSession> next;
        lock (_gate)
        {
            if (_session is { IsAlive: true } live) return Task.FromResult(live);
            next = _nextSession.Task;
        }
        return next.WaitAsync(cancellationToken);
    }

    // True when the channel has no handler left.
    private bool RemoveHandler(string channel, Action<string, RedisValue>? handler)
    {
        lock (_gate)
        {
            if (!_handlers.TryGetValue(channel, out List<Action<string, RedisValue>>? handlers)) return false;
            if (handler is null) handlers.Clear();
            else handlers.Remove(handler);
            if (handlers.Count > 0) return false;
            _handlers.Remove(channel);
            return true;
        }
    }
}

/// <summary>
/// One socket of the pub/sub link, in RESP2's subscribed mode: the server pushes
/// <c>["message", channel, payload]</c> arrays at any time, between the confirmations
/// (<c>["subscribe", channel, count]</c>) of the SUBSCRIBE and UNSUBSCRIBE commands, which come in
/// the order the commands were sent.
/// </summary>
internal sealed class SubscriberSession(RedisSocket socket, RedisSubscriber owner)
{
    private sealed class Confirmation(string kind, string channel)
    {
        public string Kind { get; } = kind;
        public string Channel { get; } = channel;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly object _gate = new();
    private readonly Queue<Confirmation> _expected = new();
    // Looked up, never enumerated: their order does not matter.
    private readonly HashSet<string> _subscribed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task> _subscribing = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _failure;

    public bool IsAlive => Volatile.Read(ref _failure) is null;

    /// <summary>Completes once the subscriber has stopped offering this session to callers.</summary>
    public Task Ended => _ended.Task;

    public void MarkEnded() => _ended.TrySetResult();

    /// <summary>Reads pushes and confirmations until the socket fails; returns why.</summary>
    public async Task<Exception> RunAsync(CancellationToken cancellationToken)
    {
        CancellationTokenRegistration onCancel = cancellationToken.Register(
            static state => ((SubscriberSession)state!).Fail(new RedisConnectionException("The Redis pub/sub connection was closed by its owner.")), this);
        var replies = new List<RedisResult>();
        try
        {
            while (true)
            {
                replies.Clear();
                if (!await socket.ReadAsync(replies, _stop.Token).ConfigureAwait(false))
                {
                    Fail(new RedisConnectionException($"Redis at {socket.Endpoint} closed the pub/sub connection."));
                    break;
                }
                foreach (RedisResult reply in replies)
                    Handle(reply);
            }
        }
        catch (Exception) when (!IsAlive)
        {
            // The socket was closed because the session already failed; that first reason stands.
        }
        catch (RedisProtocolException e)
        {
            Fail(e);
        }
        catch (Exception e)
        {
            Fail(new RedisConnectionException($"Reading from Redis at {socket.Endpoint} (pub/sub) failed: {e.Message}", e));
        }
        await onCancel.DisposeAsync().ConfigureAwait(false);
        return _failure!;
    }

    /// <summary>Subscribes the channel on this socket unless it already is, and waits for the confirmation.</summary>
    public async Task SubscribeAsync(string channel, CancellationToken cancellationToken)
    {
        Task confirmed = await SendAsync("subscribe", channel, cancellationToken).ConfigureAwait(false);
        await confirmed.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends SUBSCRIBE without waiting for the confirmation (renewing subscriptions after a reconnect).</summary>
    public Task SendSubscribeAsync(string channel) => SendAsync("subscribe", channel, CancellationToken.None);

    public async Task UnsubscribeAsync(string channel, CancellationToken cancellationToken)
    {
        Task confirmed = await SendAsync("unsubscribe", channel, cancellationToken).ConfigureAwait(false);
        await confirmed.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    // Returns the task of the confirmation to wait for.
    private async Task<Task> SendAsync(string kind, string channel, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var confirmation = new Confirmation(kind, channel);
            lock (_gate)
            {
                ThrowIfFailed();
                if (kind == "subscribe")
                {
                    if (_subscribed.Contains(channel)) return Task.CompletedTask;
                    if (_subscribing.TryGetValue(channel, out Task? underway)) return underway;
                    _subscribing[channel] = confirmation.Done.Task;
                }
                _expected.Enqueue(confirmation);
            }
            // Not cancellable by the caller: half a command would corrupt the stream.
            await socket.WriteAsync(RespCommandEncoder.Encode(kind.ToUpperInvariant(), [channel]), _stop.Token).ConfigureAwait(false);
            return confirmation.Done.Task;
        }
        catch (Exception e) when (e is not RedisConnectionException)
        {
            if (IsAlive) Fail(new RedisConnectionException($"Writing to Redis at {socket.Endpoint} (pub/sub) failed: {e.Message}", e));
            ThrowIfFailed();
            throw;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void Handle(RedisResult reply)
    {
        if (reply.Type == RedisResultType.Error)
        {
            Confirmation failed = DequeueExpected(reply);
            lock (_gate)
                _subscribing.Remove(failed.Channel);
            failed.Done.TrySetException(new RedisServerException(failed.Kind.ToUpperInvariant(), reply.AsString() ?? ""));
            return;
        }
        if ((reply.Type == RedisResultType.Array ? reply.AsArray() : null) is not [{ Type: RedisResultType.BulkString, IsNull: false } kindReply, { Type: RedisResultType.BulkString, IsNull: false } channelReply, var third])
            throw new RedisProtocolException($"Redis at {socket.Endpoint} sent {reply} on the pub/sub connection, which is neither a message nor a confirmation.");
        string kind = kindReply.AsString()!;
        string channel = channelReply.AsString()!;
        switch (kind)
        {
            case "message" when third.Type == RedisResultType.BulkString && !third.IsNull:
                owner.Deliver(channel, third.AsRedisValue());
                break;
            case "subscribe" or "unsubscribe" when third.Type == RedisResultType.Integer:
                Confirmation expected = DequeueExpected(reply);
                if (expected.Kind != kind || expected.Channel != channel)
                    throw new RedisProtocolException(
                        $"Redis at {socket.Endpoint} confirmed {kind} of '{channel}' when the next confirmation due was {expected.Kind} of '{expected.Channel}'.");
                lock (_gate)
                {
                    if (kind == "subscribe")
                    {
                        _subscribed.Add(channel);
                        _subscribing.Remove(channel);
                    }
                    else
                    {
                        _subscribed.Remove(channel);
                    }
                }
                expected.Done.TrySetResult();
                break;
            default:
                throw new RedisProtocolException($"Redis at {socket.Endpoint} sent {reply} on the pub/sub connection, which is neither a message nor a confirmation.");
        }
    }

    private Confirmation DequeueExpected(RedisResult reply)
    {
        lock (_gate)
        {
            if (_expected.TryDequeue(out Confirmation? next)) return next;
        }
        throw new RedisProtocolException($"Redis at {socket.Endpoint} sent {reply} on the pub/sub connection while no confirmation was due.");
    }

    private void ThrowIfFailed()
    {
        Exception? failure = Volatile.Read(ref _failure);
        if (failure is not null)
            throw new RedisConnectionException($"The pub/sub connection to Redis at {socket.Endpoint} failed: {failure.Message}", failure);
    }

    private void Fail(Exception reason)
    {
        Confirmation[] orphans;
        lock (_gate)
        {
            if (_failure is not null) return;
            _failure = reason;
            orphans = [.. _expected];
            _expected.Clear();
        }
        _stop.Cancel();
        socket.Dispose();
        foreach (Confirmation orphan in orphans)
            orphan.Done.TrySetException(new RedisConnectionException(
                $"The pub/sub connection to Redis at {socket.Endpoint} failed while {orphan.Kind.ToUpperInvariant()} {orphan.Channel} waited for its confirmation ({reason.Message}).",
                reason));
    }
}
