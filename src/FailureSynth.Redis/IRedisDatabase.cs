namespace FailureSynth.Redis;

/// <summary>
/// The Redis commands FailureSynth uses, named and shaped like StackExchange.Redis's IDatabase so
/// that code reads the same against either. Every call may fail with
/// <see cref="RedisServerException"/> (the server refused it), <see cref="RedisConnectionException"/>
/// (the connection failed while it waited) or <see cref="RedisTimeoutException"/>.
/// </summary>
public interface IRedisDatabase
{
    /// <summary>The database index every command runs against.</summary>
    int Database { get; }

    /// <summary>GET: the value, or <see cref="RedisValue.Null"/> when the key does not exist.</summary>
    Task<RedisValue> StringGetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>SET with EX/PX and NX/XX: true when the value was written, false when the condition did not hold.</summary>
    Task<bool> StringSetAsync(string key, RedisValue value, TimeSpan? expiry = null, When when = When.Always, CancellationToken cancellationToken = default);

    /// <summary>DEL: true when the key existed.</summary>
    Task<bool> KeyDeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>EXISTS.</summary>
    Task<bool> KeyExistsAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>PEXPIRE: true when the key exists and now expires after <paramref name="expiry"/>.</summary>
    Task<bool> KeyExpireAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default);

    /// <summary>INCRBY: the value after the increment (a missing key counts as 0).</summary>
    Task<long> StringIncrementAsync(string key, long by = 1, CancellationToken cancellationToken = default);

    /// <summary>HINCRBY: the field's value after the increment (a missing field counts as 0).</summary>
    Task<long> HashIncrementAsync(string key, string field, long by = 1, CancellationToken cancellationToken = default);

    /// <summary>HSET of one field: true when the field is new, false when an existing value was replaced.</summary>
    Task<bool> HashSetAsync(string key, string field, RedisValue value, CancellationToken cancellationToken = default);

    /// <summary>HSET of several fields in one command; nothing is sent for an empty array.</summary>
    Task HashSetAsync(string key, HashEntry[] entries, CancellationToken cancellationToken = default);

    /// <summary>HGETALL: every field and value, in the server's order; empty when the key does not exist.</summary>
    Task<HashEntry[]> HashGetAllAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>SADD of one member: true when it was not in the set yet.</summary>
    Task<bool> SetAddAsync(string key, RedisValue value, CancellationToken cancellationToken = default);

    /// <summary>SISMEMBER.</summary>
    Task<bool> SetContainsAsync(string key, RedisValue value, CancellationToken cancellationToken = default);

    /// <summary>PUBLISH: how many subscribers received the message.</summary>
    Task<long> PublishAsync(string channel, RedisValue message, CancellationToken cancellationToken = default);

    /// <summary>
    /// The keys matching a glob pattern, walked with SCAN page by page (COUNT <paramref name="pageSize"/>).
    /// As with SCAN itself, a key changed during the walk may be missed or seen twice; one that exists
    /// throughout is seen.
    /// </summary>
    IAsyncEnumerable<string> ScanAsync(string pattern = "*", int pageSize = 250, CancellationToken cancellationToken = default);

    /// <summary>PING: the round-trip time.</summary>
    Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default);

    /// <summary>FLUSHDB: removes every key of this database (tests and tools).</summary>
    Task FlushDatabaseAsync(CancellationToken cancellationToken = default);

    /// <summary>Any other command, e.g. <c>ExecuteAsync("OBJECT", "ENCODING", key)</c>.</summary>
    Task<RedisResult> ExecuteAsync(string command, params object[] args);

    /// <inheritdoc cref="ExecuteAsync(string, object[])"/>
    Task<RedisResult> ExecuteAsync(string command, IReadOnlyList<object> args, CancellationToken cancellationToken = default);
}
