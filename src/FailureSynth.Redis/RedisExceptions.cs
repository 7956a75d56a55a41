namespace FailureSynth.Redis;

/// <summary>The base of the errors the Redis client raises, other than timeouts.</summary>
public class RedisException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>
/// The connection to Redis could not be opened, or failed while a command waited for its reply.
/// A command that fails this way may or may not have run on the server.
/// </summary>
public class RedisConnectionException(string message, Exception? innerException = null) : RedisException(message, innerException);

/// <summary>The server refused the credentials in the connection string, or needs credentials that it lacks.</summary>
public sealed class RedisAuthenticationException(string message, string serverMessage) : RedisConnectionException(message)
{
    /// <summary>The server's own error text (e.g. "WRONGPASS invalid username-password pair …").</summary>
    public string ServerMessage { get; } = serverMessage;
}

/// <summary>The server answered a command with an error reply (<c>-ERR …</c>, <c>-WRONGTYPE …</c>).</summary>
public sealed class RedisServerException(string command, string serverMessage)
    : RedisException($"Redis rejected {command}: {serverMessage}")
{
    /// <summary>The command's name, e.g. INCRBY.</summary>
    public string Command { get; } = command;

    /// <summary>The server's error text exactly as sent, starting with its error code (ERR, WRONGTYPE, …).</summary>
    public string ServerMessage { get; } = serverMessage;
}

/// <summary>
/// The bytes from the server broke the RESP2 protocol, or a reply did not have the shape its command
/// needs. The client closes a connection whose stream broke the protocol, failing every command on it.
/// </summary>
public sealed class RedisProtocolException(string message) : RedisException(message);

/// <summary>
/// A command got no reply within its timeout (syncTimeout/asyncTimeout). Derives from
/// <see cref="TimeoutException"/> as StackExchange.Redis's does; the message says whether the command was sent.
/// </summary>
public sealed class RedisTimeoutException(string message) : TimeoutException(message);
