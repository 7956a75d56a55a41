namespace FailureSynth.Redis;

/// <summary>
/// A command on its way through the multiplexed connection: queued, then written and waiting in
/// the connection's reply queue, then answered or failed. Exactly one of "written" and
/// "abandoned" ever happens, so a command that gave up while queued is never sent afterwards.
/// </summary>
internal sealed class PendingCommand(string name, byte[] payload)
    : TaskCompletionSource<RedisResult>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    private const int Queued = 0, Written = 1, Abandoned = 2;
    private int _state;

    public string Name { get; } = name;

    public byte[] Payload { get; } = payload;

    /// <summary>Claims the command for writing; false when its caller already gave up.</summary>
    public bool TryMarkWritten() => Interlocked.CompareExchange(ref _state, Written, Queued) == Queued;

    /// <summary>Stops the command from being written; false when it already was (its reply is still due).</summary>
    public bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Queued) is Queued or Abandoned;

    /// <summary>Completes the command with the server's reply, an error reply becoming a <see cref="RedisServerException"/>.</summary>
    public void Answer(RedisResult reply)
    {
        if (reply.Type == RedisResultType.Error)
            TrySetException(new RedisServerException(Name, reply.AsString() ?? ""));
        else
            TrySetResult(reply);
    }
}
