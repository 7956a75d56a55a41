using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FailureSynth.Redis;

/// <summary>
/// A connection to one Redis server, shared by the whole process as StackExchange.Redis's
/// ConnectionMultiplexer is: every caller's commands go down one socket, pipelined, and the
/// replies are matched to them in order. It reconnects by itself (authenticating again) when the
/// socket fails; the commands that were waiting for a reply then fail with
/// <see cref="RedisConnectionException"/>, and commands issued meanwhile wait for the new socket,
/// each within its timeout.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable, IRedisSocketUser
{
    /// <summary>The name of the ActivitySource that traces every command (add it to the tracer provider).</summary>
    public const string ActivitySourceName = "FailureSynth.Redis";

    private const string LinkName = "command connection";

    private static readonly ActivitySource s_activitySource = new(ActivitySourceName);

    private readonly ILogger _logger;
    private readonly Channel<PendingCommand> _outbound =
        Channel.CreateUnbounded<PendingCommand>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CommandHandover _handover = new();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource _firstAttemptsDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RedisDatabase _database;
    private readonly Lazy<RedisSubscriber> _subscriber;
    private readonly Task _link;
    private RedisCommandSession? _session;
    private Exception? _lastError;
    private int _reconnectCount;
    private bool _everConnected;
    private int _disposed;

    private RedisConnection(RedisConfiguration configuration, ILogger? logger)
    {
        Configuration = configuration;
        _logger = logger ?? NullLogger.Instance;
        _database = new RedisDatabase(this);
        _subscriber = new(() => new RedisSubscriber(configuration, _logger));
        _link = Task.Run(() => RedisReconnectLoop.RunAsync(configuration, this, _lifetime.Token));
    }

    /// <summary>Raised (on a pool thread) when an established socket fails; the connection is already reconnecting.</summary>
    public event EventHandler<RedisConnectionEventArgs>? ConnectionFailed;

    /// <summary>Raised (on a pool thread) when a new socket replaces a failed one.</summary>
    public event EventHandler<RedisConnectionEventArgs>? ConnectionRestored;

    public RedisConfiguration Configuration { get; }

    /// <summary>True while an authenticated socket is open.</summary>
    public bool IsConnected => Volatile.Read(ref _session)?.IsAlive == true;

    /// <summary>How many times a failed socket has been replaced.</summary>
    public int ReconnectCount => Volatile.Read(ref _reconnectCount);

    /// <summary>Why the last socket or connect attempt failed; null before any failure.</summary>
    public Exception? LastError => Volatile.Read(ref _lastError);

    /// <summary>
    /// Connects to the server the connection string names. With abortConnect=true (the default)
    /// it fails after connectRetry attempts (at once for rejected credentials); with
    /// abortConnect=false it returns anyway and keeps connecting in the background.
    /// </summary>
    /// <exception cref="ArgumentException">The connection string is malformed.</exception>
    /// <exception cref="RedisConnectionException">Connecting failed and abortConnect is true.</exception>
    public static Task<RedisConnection> ConnectAsync(string configuration, ILogger? logger = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(RedisConfiguration.Parse(configuration), logger, cancellationToken);

    /// <inheritdoc cref="ConnectAsync(string, ILogger?, CancellationToken)"/>
    public static async Task<RedisConnection> ConnectAsync(RedisConfiguration configuration, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var connection = new RedisConnection(configuration, logger);
        try
        {
            await connection._firstAttemptsDone.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (connection.IsConnected || !configuration.AbortConnect)
            return connection;

        Exception? error = connection.LastError;
        await connection.DisposeAsync().ConfigureAwait(false);
        if (error is RedisAuthenticationException authentication)
            throw authentication;
        throw new RedisConnectionException(
            $"Could not connect to Redis at {configuration.Endpoint} in {configuration.ConnectRetry} attempt(s): {error?.Message} " +
            "(To start anyway and keep retrying in the background, add abortConnect=false to the connection string.)",
            error);
    }

    /// <summary>
    /// Creates the connection without waiting for it: it connects in the background and keeps
    /// retrying, so a service can start while Redis is still coming up. Commands wait for the
    /// connection within their timeout.
    /// </summary>
    /// <exception cref="ArgumentException">The connection string is malformed.</exception>
    public static RedisConnection Create(string configuration, ILogger? logger = null) =>
        Create(RedisConfiguration.Parse(configuration), logger);

    /// <inheritdoc cref="Create(string, ILogger?)"/>
    public static RedisConnection Create(RedisConfiguration configuration, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return new RedisConnection(configuration, logger);
    }

    /// <summary>The commands of the database the connection string selects (defaultDatabase).</summary>
    public IRedisDatabase GetDatabase()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _database;
    }

    /// <summary>Publish/subscribe: it opens a second connection on first use, because a subscribed socket can do nothing else.</summary>
    public IRedisSubscriber GetSubscriber()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _subscriber.Value;
    }

    /// <summary>Sends one command and returns its reply; an error reply becomes <see cref="RedisServerException"/>.</summary>
    internal async Task<RedisResult> ExecuteAsync(string command, IReadOnlyList<object> arguments, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        string name = command.ToUpperInvariant();
        var pending = new PendingCommand(name, RespCommandEncoder.Encode(command, arguments));
        using Activity? activity = StartActivity(name);
        try
        {
            if (!_outbound.Writer.TryWrite(pending))
                throw new ObjectDisposedException(nameof(RedisConnection), $"The Redis connection to {Configuration.Endpoint} was disposed; {name} was not sent.");
            try
            {
                return await pending.Task.WaitAsync(Configuration.CommandTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException e) when (e is not RedisTimeoutException)
            {
                bool sent = !pending.TryAbandon();
                pending.TrySetException(CreateTimeoutException(name, sent));
                // The reply may have arrived just before the timeout fired: then it wins.
                return await pending.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                pending.TryAbandon();
                pending.TrySetCanceled(cancellationToken);
                return await pending.Task.ConfigureAwait(false);
            }
        }
        catch (Exception e) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, e.Message);
            activity.AddException(e);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        // Cancel first, so that closing the socket is not mistaken for a failure to report and repair.
        _lifetime.Cancel();
        _outbound.Writer.TryComplete();
        await _link.ConfigureAwait(false);

        var notSent = new RedisConnectionException($"The Redis connection to {Configuration.Endpoint} was disposed before the command was sent.");
        if (_handover.Take() is { } handedOver)
            handedOver.TrySetException(notSent);
        while (_outbound.Reader.TryRead(out PendingCommand? pending))
        {
            pending.TryAbandon();
            pending.TrySetException(notSent);
        }
        if (_subscriber.IsValueCreated)
            await _subscriber.Value.DisposeAsync().ConfigureAwait(false);
        _firstAttemptsDone.TrySetResult();
        _lifetime.Dispose();
    }

    async Task IRedisSocketUser.ServeAsync(RedisSocket socket, CancellationToken cancellationToken)
    {
        var session = new RedisCommandSession(socket, _handover);
        bool restored = _everConnected;
        _everConnected = true;
        // Counted before any command can flow, so a caller who got a reply over the new socket sees the count.
        int count = restored ? Interlocked.Increment(ref _reconnectCount) : 0;
        Volatile.Write(ref _session, session);
        Task<Exception> run = session.RunAsync(_outbound.Reader, cancellationToken);
        if (restored)
        {
            RedisLog.Reconnected(_logger, LinkName, Configuration.Endpoint, count);
            Raise(ConnectionRestored, nameof(ConnectionRestored), null);
        }
        else
        {
            RedisLog.Connected(_logger, LinkName, Configuration.Endpoint);
        }
        _firstAttemptsDone.TrySetResult();

        Exception reason = await run.ConfigureAwait(false);
        Volatile.Write(ref _lastError, reason);
        if (!cancellationToken.IsCancellationRequested)
        {
            RedisLog.ConnectionLost(_logger, LinkName, Configuration.Endpoint, reason.Message);
            Raise(ConnectionFailed, nameof(ConnectionFailed), reason);
        }
    }

    void IRedisSocketUser.OnConnectFailed(RedisConnectionException error, int consecutiveFailures)
    {
        Volatile.Write(ref _lastError, error);
        RedisLog.ConnectAttemptFailed(_logger, LinkName, Configuration.Endpoint, consecutiveFailures, error.Message);
        if (consecutiveFailures >= Configuration.ConnectRetry || error is RedisAuthenticationException)
            _firstAttemptsDone.TrySetResult();
    }

    private void Raise(EventHandler<RedisConnectionEventArgs>? handlers, string eventName, Exception? error)
    {
        if (handlers is null) return;
        try
        {
            handlers(this, new RedisConnectionEventArgs(Configuration.Endpoint, error));
        }
        catch (Exception e)
        {
            RedisLog.EventHandlerFailed(_logger, e, eventName);
        }
    }

    private Activity? StartActivity(string name)
    {
        Activity? activity = s_activitySource.StartActivity(name, ActivityKind.Client);
        if (activity is null) return null;
        activity.SetTag("db.system", "redis");
        activity.SetTag("db.operation", name);
        activity.SetTag("db.redis.database_index", Configuration.DefaultDatabase);
        activity.SetTag("server.address", Configuration.Host);
        activity.SetTag("server.port", Configuration.Port);
        return activity;
    }

    private RedisTimeoutException CreateTimeoutException(string name, bool sent)
    {
        string detail;
        if (sent)
            detail = $"it was sent to {Configuration.Endpoint} and no reply came ({Volatile.Read(ref _session)?.AwaitingReplyCount ?? 0} commands are awaiting replies on the connection)";
        else if (!IsConnected)
            detail = $"it was never sent, because the connection to {Configuration.Endpoint} is down ({LastError?.Message ?? "not connected yet"}); it will not be sent later";
        else
            detail = "it was never sent, as the commands queued ahead of it were still being written (the process or the machine may be overloaded); it will not be sent later";
        return new RedisTimeoutException(
            $"Redis command {name} timed out after {(int)Configuration.CommandTimeout.TotalMilliseconds} ms (syncTimeout): {detail}.");
    }
}

/// <summary>Which server a connection event concerns and, for a failure, why.</summary>
public sealed class RedisConnectionEventArgs(string endpoint, Exception? error) : EventArgs
{
    public string Endpoint { get; } = endpoint;

    public Exception? Error { get; } = error;
}
