using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace FailureSynth.Messaging;

/// <summary>
/// The one RabbitMQ connection of a process. Connects on first use, retrying with exponential
/// backoff while the broker starts; afterwards the client's automatic recovery reconnects and
/// restores channels, queues, bindings and consumers after a broker restart.
/// </summary>
public sealed class RabbitMqConnectionProvider(RabbitMqClientSettings settings, IConfiguration? configuration, ILogger<RabbitMqConnectionProvider> logger)
    : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private IConnection? _connection;
    private bool _disposed;

    public string ConnectionName => settings.ConnectionName;

    /// <summary>The connection once made (open, or recovering), else null.</summary>
    public IConnection? Current => _connection;

    /// <summary>The broker address with the password hidden; throws when the connection string is missing or malformed.</summary>
    public string Endpoint => AmqpConnectionString.Redact(ResolveUri());

    public async Task<IConnection> GetConnectionAsync(CancellationToken cancellationToken = default)
    {
        if (_connection is { } existing) return existing;
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _connection ??= await ConnectWithRetryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private Uri ResolveUri() =>
        AmqpConnectionString.Parse(settings.ConnectionName, settings.ConnectionString ?? configuration?.GetConnectionString(settings.ConnectionName));

    private async Task<IConnection> ConnectWithRetryAsync(CancellationToken cancellationToken)
    {
        Uri uri = ResolveUri();
        var factory = new ConnectionFactory
        {
            Uri = uri,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = settings.NetworkRecoveryInterval,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
            ClientProvidedName = settings.ClientProvidedName ?? AppDomain.CurrentDomain.FriendlyName,
        };
        var elapsed = Stopwatch.StartNew();
        TimeSpan delay = FirstRetryDelay;
        int attempts = 0;
        while (true)
        {
            attempts++;
            try
            {
                IConnection connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
                logger.LogInformation("Connected to RabbitMQ at {Endpoint} after {Attempts} attempt(s)", AmqpConnectionString.Redact(uri), attempts);
                return connection;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                if (elapsed.Elapsed + delay > settings.ConnectTimeout)
                    throw new InvalidOperationException(
                        $"Could not connect to RabbitMQ at {AmqpConnectionString.Redact(uri)} (ConnectionStrings:{settings.ConnectionName}) within {settings.ConnectTimeout.TotalSeconds:0} s, {attempts} attempts; last error: {Describe(e)}. " +
                        "Check that the broker runs and that the connection string's host, port, user and password are right.", e);
                logger.LogWarning("RabbitMQ at {Endpoint} not reachable yet (attempt {Attempt}: {Error}); retrying in {Delay} ms",
                    AmqpConnectionString.Redact(uri), attempts, Describe(e), (int)delay.TotalMilliseconds);
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetryDelay.Ticks));
        }
    }

    private static string Describe(Exception e) =>
        e.InnerException is { } inner ? $"{e.Message} ({inner.GetType().Name}: {inner.Message})" : e.Message;

    public async ValueTask DisposeAsync()
    {
        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed) return;
            _disposed = true;
            if (_connection is { } connection)
            {
                try
                {
                    await connection.CloseAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    logger.LogDebug(e, "Closing the RabbitMQ connection failed; it is disposed anyway");
                }
                await connection.DisposeAsync().ConfigureAwait(false);
                _connection = null;
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }
}
