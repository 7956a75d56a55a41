using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace FailureSynth.Redis;

/// <summary>
/// The typed commands over one <see cref="RedisConnection"/>. Each checks that its reply has the
/// shape its command answers with, so that a reply that could not belong to it never passes as one.
/// </summary>
internal sealed class RedisDatabase(RedisConnection connection) : IRedisDatabase
{
    public int Database => connection.Configuration.DefaultDatabase;

    public async Task<RedisValue> StringGetAsync(string key, CancellationToken cancellationToken = default) =>
        Expect(await RunAsync("GET", [Key(key)], cancellationToken).ConfigureAwait(false), "GET", RedisResultType.BulkString).AsRedisValue();

    public async Task<bool> StringSetAsync(string key, RedisValue value, TimeSpan? expiry = null, When when = When.Always, CancellationToken cancellationToken = default)
    {
        if (value.IsNull)
            throw new ArgumentException($"The value for key '{key}' is null; Redis cannot store null. Use KeyDeleteAsync to remove the key.", nameof(value));
        var arguments = new List<object> { Key(key), value };
        if (expiry is { } ttl)
        {
            if (ttl <= TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(nameof(expiry), ttl, $"The expiry for key '{key}' must be positive; leave it null for a key that does not expire.");
            // Whole seconds as EX (what most callers mean); anything finer as PX.
            if (ttl.Ticks % TimeSpan.TicksPerSecond == 0)
                arguments.AddRange(["EX", (long)ttl.TotalSeconds]);
            else
                arguments.AddRange(["PX", Math.Max(1L, (long)Math.Ceiling(ttl.TotalMilliseconds))]);
        }
        switch (when)
        {
            case When.Always: break;
            case When.Exists: arguments.Add("XX"); break;
            case When.NotExists: arguments.Add("NX"); break;
            default: throw new ArgumentOutOfRangeException(nameof(when), when, "Use When.Always, When.Exists or When.NotExists.");
        }
        RedisResult reply = await RunAsync("SET", arguments, cancellationToken).ConfigureAwait(false);
        if (reply.Type == RedisResultType.SimpleString && reply.AsString() == "OK") return true;
        // A null reply means the NX or XX condition did not hold; without one it cannot come.
        if (reply.Type == RedisResultType.BulkString && reply.IsNull && when != When.Always) return false;
        throw Unexpected("SET", reply, "+OK, or a null bulk string with NX/XX");
    }

    public async Task<bool> KeyDeleteAsync(string key, CancellationToken cancellationToken = default) =>
        await IntegerAsync("DEL", [Key(key)], cancellationToken).ConfigureAwait(false) > 0;

    public async Task<bool> KeyExistsAsync(string key, CancellationToken cancellationToken = default) =>
        await IntegerAsync("EXISTS", [Key(key)], cancellationToken).ConfigureAwait(false) > 0;

    public async Task<bool> KeyExpireAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        if (expiry <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(expiry), expiry, $"The expiry for key '{key}' must be positive; to remove the key now use KeyDeleteAsync.");
        return await IntegerAsync("PEXPIRE", [Key(key), Math.Max(1L, (long)Math.Ceiling(expiry.TotalMilliseconds))], cancellationToken).ConfigureAwait(false) == 1;
    }

    public Task<long> StringIncrementAsync(string key, long by = 1, CancellationToken cancellationToken = default) =>
        IntegerAsync("INCRBY", [Key(key), by], cancellationToken);

    public Task<long> HashIncrementAsync(string key, string field, long by = 1, CancellationToken cancellationToken = default) =>
        IntegerAsync("HINCRBY", [Key(key), Field(field), by], cancellationToken);

    public async Task<bool> HashSetAsync(string key, string field, RedisValue value, CancellationToken cancellationToken = default) =>
        await IntegerAsync("HSET", [Key(key), Field(field), value], cancellationToken).ConfigureAwait(false) == 1;

    public async Task HashSetAsync(string key, HashEntry[] entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Length == 0) return;
        var arguments = new List<object>(1 + 2 * entries.Length) { Key(key) };
        foreach (HashEntry entry in entries)
        {
            arguments.Add(Field(entry.Name));
            arguments.Add(entry.Value);
        }
        await IntegerAsync("HSET", arguments, cancellationToken).ConfigureAwait(false);
    }

    public async Task<HashEntry[]> HashGetAllAsync(string key, CancellationToken cancellationToken = default)
    {
        RedisResult reply = Expect(await RunAsync("HGETALL", [Key(key)], cancellationToken).ConfigureAwait(false), "HGETALL", RedisResultType.Array);
        IReadOnlyList<RedisResult> items = reply.AsArray() ?? throw Unexpected("HGETALL", reply, "an array of fields and values");
        if (items.Count % 2 != 0 || items.Any(i => i.Type != RedisResultType.BulkString || i.IsNull))
            throw Unexpected("HGETALL", reply, "an even-length array of field and value bulk strings");
        var entries = new HashEntry[items.Count / 2];
        for (int i = 0; i < entries.Length; i++)
            entries[i] = new HashEntry(items[2 * i].AsString()!, items[2 * i + 1].AsRedisValue());
        return entries;
    }

    public async Task<bool> SetAddAsync(string key, RedisValue value, CancellationToken cancellationToken = default) =>
        await IntegerAsync("SADD", [Key(key), value], cancellationToken).ConfigureAwait(false) == 1;

    public async Task<bool> SetContainsAsync(string key, RedisValue value, CancellationToken cancellationToken = default) =>
        await IntegerAsync("SISMEMBER", [Key(key), value], cancellationToken).ConfigureAwait(false) == 1;

    public Task<long> PublishAsync(string channel, RedisValue message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        return IntegerAsync("PUBLISH", [channel, message], cancellationToken);
    }

    public async IAsyncEnumerable<string> ScanAsync(string pattern = "*", int pageSize = 250, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        string cursor = "0";
        do
        {
            RedisResult reply = Expect(await RunAsync("SCAN", [cursor, "MATCH", pattern, "COUNT", pageSize], cancellationToken).ConfigureAwait(false), "SCAN", RedisResultType.Array);
            if (reply.AsArray() is not [{ Type: RedisResultType.BulkString, IsNull: false } next, { Type: RedisResultType.Array, IsNull: false } keys])
                throw Unexpected("SCAN", reply, "a two-element array of cursor and keys");
            cursor = next.AsString()!;
            foreach (RedisResult key in keys.AsArray()!)
                yield return key.AsString() ?? throw Unexpected("SCAN", reply, "key names as bulk strings");
        }
        while (cursor != "0");
    }

    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        long start = Stopwatch.GetTimestamp();
        RedisResult reply = await RunAsync("PING", [], cancellationToken).ConfigureAwait(false);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        if (reply.Type != RedisResultType.SimpleString || reply.AsString() != "PONG")
            throw Unexpected("PING", reply, "+PONG");
        return elapsed;
    }

    public async Task FlushDatabaseAsync(CancellationToken cancellationToken = default)
    {
        RedisResult reply = await RunAsync("FLUSHDB", [], cancellationToken).ConfigureAwait(false);
        if (reply.Type != RedisResultType.SimpleString || reply.AsString() != "OK")
            throw Unexpected("FLUSHDB", reply, "+OK");
    }

    public Task<RedisResult> ExecuteAsync(string command, params object[] args) =>
        ExecuteAsync(command, (IReadOnlyList<object>)args, CancellationToken.None);

    public Task<RedisResult> ExecuteAsync(string command, IReadOnlyList<object> args, CancellationToken cancellationToken = default)
    {
        RespCommandEncoder.ValidateCommandName(command);
        ArgumentNullException.ThrowIfNull(args);
        return RunAsync(command, args, cancellationToken);
    }

    private Task<RedisResult> RunAsync(string command, IReadOnlyList<object> arguments, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(command, arguments, cancellationToken);

    private async Task<long> IntegerAsync(string command, IReadOnlyList<object> arguments, CancellationToken cancellationToken) =>
        Expect(await RunAsync(command, arguments, cancellationToken).ConfigureAwait(false), command, RedisResultType.Integer).AsInt64();

    private static RedisResult Expect(RedisResult reply, string command, RedisResultType type) =>
        reply.Type == type ? reply : throw Unexpected(command, reply, DescribeType(type));

    private static RedisProtocolException Unexpected(string command, RedisResult reply, string expected)
    {
        string text = reply.ToString();
        if (text.Length > 80) text = text[..80] + "…";
        return new RedisProtocolException($"Redis answered {command} with {text}, but {command} answers with {expected}; this reply cannot be {command}'s.");
    }

    private static string DescribeType(RedisResultType type) => type switch
    {
        RedisResultType.Integer => "an integer",
        RedisResultType.BulkString => "a bulk string",
        RedisResultType.Array => "an array",
        _ => type.ToString(),
    };

    private static string Key(string key) => key ?? throw new ArgumentNullException(nameof(key), "A Redis key cannot be null.");

    private static string Field(string field) => field ?? throw new ArgumentNullException(nameof(field), "A Redis hash field name cannot be null.");
}
