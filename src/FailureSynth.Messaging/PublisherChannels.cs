using System.Collections.Concurrent;
using RabbitMQ.Client;

namespace FailureSynth.Messaging;

/// <summary>
/// A small pool of confirm-tracking channels: one publish at a time per channel (the client's
/// confirm tracking is not safe under concurrent publishes), several channels in parallel.
/// </summary>
internal sealed class PublisherChannels(RabbitMqConnectionProvider connections, int size) : IAsyncDisposable
{
    private static readonly CreateChannelOptions ConfirmedChannel =
        new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    private readonly SemaphoreSlim _slots = new(size, size);
    private readonly ConcurrentBag<IChannel> _idle = [];
    private bool _disposed;

    /// <summary>Runs one operation on a channel of its own; the channel goes back to the pool afterwards.</summary>
    public async Task<T> UseAsync<T>(Func<IChannel, Task<T>> operation, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        IChannel? channel = null;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_idle.TryTake(out channel))
            {
                IConnection connection = await connections.GetConnectionAsync(cancellationToken).ConfigureAwait(false);
                channel = await connection.CreateChannelAsync(ConfirmedChannel, cancellationToken).ConfigureAwait(false);
            }
            return await operation(channel).ConfigureAwait(false);
        }
        finally
        {
            if (channel is not null) await ReturnAsync(channel).ConfigureAwait(false);
            _slots.Release();
        }
    }

    private async Task ReturnAsync(IChannel channel)
    {
        // A channel closed while its connection is down is restored by automatic recovery; one
        // the broker closed on an open connection (a channel error) is gone for good.
        bool recoverable = channel.IsOpen || connections.Current is { IsOpen: false };
        if (recoverable && !_disposed)
        {
            _idle.Add(channel);
            return;
        }
        try
        {
            await channel.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // already closed by the broker: nothing left to release
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        while (_idle.TryTake(out IChannel? channel))
        {
            try
            {
                if (channel.IsOpen) await channel.CloseAsync().ConfigureAwait(false);
                await channel.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // closing during shutdown: the connection closes it anyway
            }
        }
    }
}
