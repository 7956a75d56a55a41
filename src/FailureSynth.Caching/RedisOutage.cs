using StackExchange.Redis;
using Microsoft.Extensions.Logging;

namespace FailureSynth.Caching;

/// <summary>
/// Tracks whether Redis answers one accelerator (the call caches), so that an
/// outage is logged once as a warning when it starts and once when it ends, not on every call.
/// </summary>
internal sealed class RedisOutage(string component, ILogger logger)
{
    private int _down;

    /// <summary>
    /// The failures an accelerator carries on through: any failure of Redis itself, including a refusal
    /// such as OOM under maxmemory. Argument errors and cancellation are the caller's and propagate.
    /// </summary>
    public static bool IsRedisFailure(Exception e) => e is RedisException or RedisTimeoutException;

    public bool IsDown => Volatile.Read(ref _down) != 0;

    public void Failed(Exception error, string operation, string key)
    {
        if (Interlocked.Exchange(ref _down, 1) == 0)
            CachingLog.RedisUnavailable(logger, component, operation, key, error.Message, error);
        else
            CachingLog.RedisStillUnavailable(logger, component, operation, key, error.Message);
    }

    public void Answered()
    {
        if (Volatile.Read(ref _down) != 0 && Interlocked.Exchange(ref _down, 0) != 0)
            CachingLog.RedisAnswersAgain(logger, component);
    }
}

/// <summary>The caching library's log messages, in one place so that their wording and levels stay consistent.</summary>
internal static partial class CachingLog
{
    [LoggerMessage(1, LogLevel.Warning, "Redis is unavailable to the {Component} ({Operation} {Key} failed: {Reason}); carrying on without it (cache misses) until it answers again")]
    public static partial void RedisUnavailable(ILogger logger, string component, string operation, string key, string reason, Exception exception);

    [LoggerMessage(2, LogLevel.Debug, "Redis is still unavailable to the {Component} ({Operation} {Key} failed: {Reason})")]
    public static partial void RedisStillUnavailable(ILogger logger, string component, string operation, string key, string reason);

    [LoggerMessage(3, LogLevel.Information, "Redis answers the {Component} again")]
    public static partial void RedisAnswersAgain(ILogger logger, string component);

    [LoggerMessage(4, LogLevel.Warning, "The {Component} found a value at {Key} that is not valid JSON for {Type} ({Reason}); treating it as a miss, to be overwritten")]
    public static partial void CorruptValue(ILogger logger, string component, string key, string type, string reason);

}
