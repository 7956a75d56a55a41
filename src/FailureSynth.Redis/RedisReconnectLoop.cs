namespace FailureSynth.Redis;

/// <summary>What a reconnecting user of a socket (the command link or the pub/sub link) does with each socket.</summary>
internal interface IRedisSocketUser
{
    /// <summary>Uses a freshly opened socket until it fails or the link is cancelled. Must not throw.</summary>
    Task ServeAsync(RedisSocket socket, CancellationToken cancellationToken);

    /// <summary>Hears of a failed connect attempt; <paramref name="consecutiveFailures"/> counts from 1.</summary>
    void OnConnectFailed(RedisConnectionException error, int consecutiveFailures);
}

/// <summary>
/// Keeps one socket to the server open for its user: opens it, hands it over, and when it fails
/// opens the next one, waiting longer after each failed attempt (25 ms doubling up to 1 s), until cancelled.
/// </summary>
internal static class RedisReconnectLoop
{
    public static async Task RunAsync(RedisConfiguration configuration, IRedisSocketUser user, CancellationToken cancellationToken)
    {
        int failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            RedisSocket socket;
            try
            {
                socket = await RedisSocket.OpenAsync(configuration, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failures++;
                user.OnConnectFailed(
                    e as RedisConnectionException ?? new RedisConnectionException($"Connecting to Redis at {configuration.Endpoint} failed: {e.Message}", e),
                    failures);
                try
                {
                    await Task.Delay(Backoff(failures), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            failures = 0;
            using (socket)
                await user.ServeAsync(socket, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The wait after the given number of consecutive failed attempts.</summary>
    internal static TimeSpan Backoff(int consecutiveFailures) =>
        TimeSpan.FromMilliseconds(Math.Min(1000, 25 << Math.Clamp(consecutiveFailures - 1, 0, 6)));
}
