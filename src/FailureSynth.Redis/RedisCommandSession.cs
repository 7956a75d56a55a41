using System.Buffers;
using System.Threading.Channels;

namespace FailureSynth.Redis;

/// <summary>
/// The life of one socket of the multiplexed command link. A writer loop takes queued commands,
/// appends each to the reply queue and writes them in batches; a reader loop parses replies and
/// gives each to the command at the head of the reply queue, which is the order Redis answers in.
/// When the socket fails, every command in the reply queue fails with a connection error, so
/// that no command can ever receive a reply meant for another.
/// </summary>
internal sealed class RedisCommandSession(RedisSocket socket, CommandHandover handover)
{
    // Commands are gathered up to this many bytes before one socket write.
    private const int BatchBytes = 64 * 1024;

    private readonly object _gate = new();
    private readonly Queue<PendingCommand> _awaitingReply = new();
    private readonly CancellationTokenSource _stop = new();
    private Exception? _failure;

    public bool IsAlive => Volatile.Read(ref _failure) is null;

    public int AwaitingReplyCount
    {
        get { lock (_gate) return _awaitingReply.Count; }
    }

    /// <summary>Runs both loops until the socket fails or the link is cancelled; returns why it ended.</summary>
    public async Task<Exception> RunAsync(ChannelReader<PendingCommand> outbound, CancellationToken cancellationToken)
    {
        CancellationTokenRegistration onCancel = cancellationToken.Register(
            static state => ((RedisCommandSession)state!).Fail(new RedisConnectionException("The Redis connection was closed by its owner.")), this);
        Task reader = ReadLoopAsync();
        Task writer = WriteLoopAsync(outbound);
        await Task.WhenAll(reader, writer).ConfigureAwait(false);
        // Both loops ended because the session failed, so nothing cancels _stop any more.
        await onCancel.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        return _failure!;
    }

    private async Task ReadLoopAsync()
    {
        var replies = new List<RedisResult>();
        try
        {
            while (true)
            {
                replies.Clear();
                if (!await socket.ReadAsync(replies, _stop.Token).ConfigureAwait(false))
                {
                    Fail(new RedisConnectionException($"Redis at {socket.Endpoint} closed the connection."));
                    return;
                }
                foreach (RedisResult reply in replies)
                    Deliver(reply);
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
            Fail(new RedisConnectionException($"Reading from Redis at {socket.Endpoint} failed: {e.Message}", e));
        }
    }

    private void Deliver(RedisResult reply)
    {
        PendingCommand? command;
        lock (_gate)
            _awaitingReply.TryDequeue(out command);
        if (command is null)
            throw new RedisProtocolException($"Redis at {socket.Endpoint} sent a reply ({Shorten(reply)}) while no command was waiting for one.");
        command.Answer(reply);
    }

    private async Task WriteLoopAsync(ChannelReader<PendingCommand> outbound)
    {
        var batch = new ArrayBufferWriter<byte>(BatchBytes);
        try
        {
            while (IsAlive)
            {
                PendingCommand? command = handover.Take();
                if (command is null && !outbound.TryRead(out command))
                {
                    if (batch.WrittenCount > 0)
                        await FlushAsync(batch).ConfigureAwait(false);
                    if (!await outbound.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
                    {
                        Fail(new RedisConnectionException("The Redis connection was disposed."));
                        return;
                    }
                    continue;
                }
                switch (Accept(command))
                {
                    case Acceptance.SessionFailed:
                        // Not sent: the next socket's writer sends it first, keeping the queue's order.
                        handover.Give(command);
                        return;
                    case Acceptance.Abandoned:
                        continue;
                }
                batch.Write(command.Payload);
                if (batch.WrittenCount >= BatchBytes)
                    await FlushAsync(batch).ConfigureAwait(false);
            }
        }
        catch (Exception) when (!IsAlive)
        {
            // Writing stopped because the session already failed; that first reason stands.
        }
        catch (Exception e)
        {
            Fail(new RedisConnectionException($"Writing to Redis at {socket.Endpoint} failed: {e.Message}", e));
        }
    }

    private enum Acceptance { Accepted, Abandoned, SessionFailed }

    // Queued for its reply before a byte of it is written, so the reply cannot overtake it.
    private Acceptance Accept(PendingCommand command)
    {
        lock (_gate)
        {
            if (_failure is not null) return Acceptance.SessionFailed;
            if (!command.TryMarkWritten()) return Acceptance.Abandoned;
            _awaitingReply.Enqueue(command);
            return Acceptance.Accepted;
        }
    }

    private async Task FlushAsync(ArrayBufferWriter<byte> batch)
    {
        await socket.WriteAsync(batch.WrittenMemory, _stop.Token).ConfigureAwait(false);
        batch.ResetWrittenCount();
    }

    private void Fail(Exception reason)
    {
        PendingCommand[] orphans;
        lock (_gate)
        {
            if (_failure is not null) return;
            _failure = reason;
            orphans = [.. _awaitingReply];
            _awaitingReply.Clear();
        }
        _stop.Cancel();
        socket.Dispose();
        foreach (PendingCommand command in orphans)
            command.TrySetException(new RedisConnectionException(
                $"The connection to Redis at {socket.Endpoint} failed while {command.Name} waited for its reply ({reason.Message}); the command may or may not have run.",
                reason));
    }

    private static string Shorten(RedisResult reply)
    {
        string text = reply.ToString();
        return text.Length <= 60 ? text : text[..60] + "…";
    }
}

/// <summary>
/// The one command a failed session's writer had taken from the queue but could not send: the
/// next session's writer sends it before anything else. Writers of two sessions never run at once.
/// </summary>
internal sealed class CommandHandover
{
    private PendingCommand? _command;

    public void Give(PendingCommand command) => Volatile.Write(ref _command, command);

    public PendingCommand? Take() => Interlocked.Exchange(ref _command, null);
}
