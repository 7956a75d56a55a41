using Microsoft.Extensions.Logging;

namespace FailureSynth.Redis;

/// <summary>The client's log messages, in one place so that their wording and levels stay consistent.</summary>
internal static partial class RedisLog
{
    [LoggerMessage(1, LogLevel.Information, "Redis {Link} connected to {Endpoint}")]
    public static partial void Connected(ILogger logger, string link, string endpoint);

    [LoggerMessage(2, LogLevel.Information, "Redis {Link} reconnected to {Endpoint} (reconnect {ReconnectCount})")]
    public static partial void Reconnected(ILogger logger, string link, string endpoint, int reconnectCount);

    [LoggerMessage(3, LogLevel.Warning, "Redis {Link} could not connect to {Endpoint} (attempt {Attempt}; retrying): {Reason}")]
    public static partial void ConnectFailed(ILogger logger, string link, string endpoint, int attempt, string reason);

    [LoggerMessage(4, LogLevel.Debug, "Redis {Link} could not connect to {Endpoint} (attempt {Attempt}; retrying): {Reason}")]
    public static partial void ConnectStillFailing(ILogger logger, string link, string endpoint, int attempt, string reason);

    [LoggerMessage(5, LogLevel.Warning, "Redis {Link} lost its connection to {Endpoint}; reconnecting: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, string link, string endpoint, string reason);

    [LoggerMessage(6, LogLevel.Error, "A handler of Redis channel {Channel} threw; the other handlers still ran")]
    public static partial void MessageHandlerFailed(ILogger logger, Exception exception, string channel);

    [LoggerMessage(7, LogLevel.Error, "A handler of the Redis {EventName} event threw")]
    public static partial void EventHandlerFailed(ILogger logger, Exception exception, string eventName);

    /// <summary>Logs a failed connect attempt: the first and every twentieth as warnings, the rest at debug level.</summary>
    public static void ConnectAttemptFailed(ILogger logger, string link, string endpoint, int attempt, string reason)
    {
        if (attempt == 1 || attempt % 20 == 0)
            ConnectFailed(logger, link, endpoint, attempt, reason);
        else
            ConnectStillFailing(logger, link, endpoint, attempt, reason);
    }
}
