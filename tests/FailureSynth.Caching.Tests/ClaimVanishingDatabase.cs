using FailureSynth.Redis;

namespace FailureSynth.Caching.Tests;

/// <summary>
/// A real database that deletes a key right after a SET NX on it fails, as when a claim's TTL runs out
/// (or FLUSHDB runs) between the failed claim and the read of its owner; it does so a set number of times.
/// With <paramref name="reclaimedByOthers"/> another writer claims the key again right after each read
/// that found it gone, so that every claim fails anew: churn no retry can win.
/// </summary>
internal sealed class ClaimVanishingDatabase(IRedisDatabase inner, int vanishings, bool reclaimedByOthers = false) : IRedisDatabase
{
    private int _vanished;

    public int Vanished => Volatile.Read(ref _vanished);

    public int Database => inner.Database;

    public async Task<bool> StringSetAsync(string key, RedisValue value, TimeSpan? expiry = null, When when = When.Always, CancellationToken cancellationToken = default)
    {
        bool written = await inner.StringSetAsync(key, value, expiry, when, cancellationToken);
        if (!written && when == When.NotExists && Interlocked.Increment(ref _vanished) <= vanishings)
            await inner.KeyDeleteAsync(key, cancellationToken);
        return written;
    }

    public async Task<RedisValue> StringGetAsync(string key, CancellationToken cancellationToken = default)
    {
        RedisValue value = await inner.StringGetAsync(key, cancellationToken);
        if (value.IsNull && reclaimedByOthers)
            await inner.StringSetAsync(key, "another-writer", cancellationToken: cancellationToken);
        return value;
    }

    public Task<bool> KeyDeleteAsync(string key, CancellationToken cancellationToken = default) => inner.KeyDeleteAsync(key, cancellationToken);

    public Task<bool> KeyExistsAsync(string key, CancellationToken cancellationToken = default) => inner.KeyExistsAsync(key, cancellationToken);

    public Task<bool> KeyExpireAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default) => inner.KeyExpireAsync(key, expiry, cancellationToken);

    public Task<long> StringIncrementAsync(string key, long by = 1, CancellationToken cancellationToken = default) => inner.StringIncrementAsync(key, by, cancellationToken);

    public Task<long> HashIncrementAsync(string key, string field, long by = 1, CancellationToken cancellationToken = default) => inner.HashIncrementAsync(key, field, by, cancellationToken);

    public Task<bool> HashSetAsync(string key, string field, RedisValue value, CancellationToken cancellationToken = default) => inner.HashSetAsync(key, field, value, cancellationToken);

    public Task HashSetAsync(string key, HashEntry[] entries, CancellationToken cancellationToken = default) => inner.HashSetAsync(key, entries, cancellationToken);

    public Task<HashEntry[]> HashGetAllAsync(string key, CancellationToken cancellationToken = default) => inner.HashGetAllAsync(key, cancellationToken);

    public Task<bool> SetAddAsync(string key, RedisValue value, CancellationToken cancellationToken = default) => inner.SetAddAsync(key, value, cancellationToken);

    public Task<bool> SetContainsAsync(string key, RedisValue value, CancellationToken cancellationToken = default) => inner.SetContainsAsync(key, value, cancellationToken);

    public Task<long> PublishAsync(string channel, RedisValue message, CancellationToken cancellationToken = default) => inner.PublishAsync(channel, message, cancellationToken);

    public IAsyncEnumerable<string> ScanAsync(string pattern = "*", int pageSize = 250, CancellationToken cancellationToken = default) => inner.ScanAsync(pattern, pageSize, cancellationToken);

    public Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);

    public Task FlushDatabaseAsync(CancellationToken cancellationToken = default) => inner.FlushDatabaseAsync(cancellationToken);

    public Task<RedisResult> ExecuteAsync(string command, params object[] args) => inner.ExecuteAsync(command, args);

    public Task<RedisResult> ExecuteAsync(string command, IReadOnlyList<object> args, CancellationToken cancellationToken = default) => inner.ExecuteAsync(command, args, cancellationToken);
}
