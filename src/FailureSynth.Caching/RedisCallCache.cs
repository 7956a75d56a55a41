using System.Text.Json;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FailureSynth.Caching;

/// <summary>
/// A JSON cache in Redis for results that are expensive to recompute and cheap to recompute again
/// identically: teacher/LLM replies keyed by model and prompt, student predictions keyed by model
/// version and sample id. Redis is an accelerator here (ARCHITECTURE §5): when it fails, or holds a
/// value that does not parse, the cache answers with a miss, logs why, and never throws.
/// </summary>
public sealed class RedisCallCache(IDatabase database, string prefix, ILogger? logger = null, JsonSerializerOptions? jsonOptions = null)
{
    private const string Component = "call cache";

    private readonly IDatabase _database = database ?? throw new ArgumentNullException(nameof(database));
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly JsonSerializerOptions _jsonOptions = jsonOptions ?? JsonSerializerOptions.Default;
    private readonly RedisOutage _outage = new(Component, logger ?? NullLogger.Instance);

    /// <summary>What every key of this cache starts with, e.g. <c>fs:teacher:</c>.</summary>
    public string Prefix { get; } = string.IsNullOrEmpty(prefix)
        ? throw new ArgumentException($"The cache prefix '{prefix}' is empty; pass one that names what is cached, e.g. \"fs:teacher:\" or \"fs:student:\".", nameof(prefix))
        : prefix;

    /// <summary>True from a Redis failure until Redis next answers this cache.</summary>
    public bool IsRedisUnavailable => _outage.IsDown;

    /// <summary>The cache key of a call: lowercase hex SHA-256 of its parts (e.g. model, prompt) joined by a unit separator, the same on every machine.</summary>
    public static string Key(params string[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 0)
            throw new ArgumentException("A cache key needs at least one part (e.g. the model and the prompt).", nameof(parts));
        for (int i = 0; i < parts.Length; i++)
            if (parts[i] is null)
                throw new ArgumentException($"Part {i} of the cache key is null; pass an empty string if that part is absent, so that absent and empty cannot collide with another key by accident.", nameof(parts));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts))));
    }

    /// <summary>The Redis key a cache key is stored under.</summary>
    public string RedisKey(string key) => string.IsNullOrEmpty(key)
        ? throw new ArgumentException("The cache key is empty; build one with RedisCallCache.Key(parts).", nameof(key))
        : Prefix + key;

    /// <summary>The cached value, or default on a miss, a value that does not parse as <typeparamref name="T"/>, or a Redis failure.</summary>
    public async Task<T?> GetAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        (bool found, T? value) = await LookupAsync<T>(key, cancellationToken).ConfigureAwait(false);
        return found ? value : default;
    }

    /// <summary>Stores the value as JSON, replacing any; false when Redis failed (the value is then simply not cached).</summary>
    public async Task<bool> SetAsync<T>(string key, T value, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        string redisKey = RedisKey(key);
        TimeSpan? expiry = RedisKeys.Ttl(ttl, nameof(ttl));
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(value, _jsonOptions);
        try
        {
            await _database.StringSetAsync(redisKey, json, expiry, When.Always).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisOutage.IsRedisFailure(e))
        {
            _outage.Failed(e, "SET", redisKey);
            return false;
        }
        _outage.Answered();
        return true;
    }

    /// <summary>
    /// The cached value of the call the parts name, or else the factory's, which is then cached. The factory's
    /// own exceptions propagate and nothing is cached. Replicas that miss at the same moment each run the
    /// factory; the callers cache only what recomputes identically, so the last write changes nothing.
    /// </summary>
    public async Task<T> GetOrCreateAsync<T>(string[] parts, Func<CancellationToken, Task<T>> factory, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        string key = Key(parts);
        RedisKeys.Ttl(ttl, nameof(ttl));
        (bool found, T? cached) = await LookupAsync<T>(key, cancellationToken).ConfigureAwait(false);
        if (found) return cached!;
        T value = await factory(cancellationToken).ConfigureAwait(false);
        await SetAsync(key, value, ttl, cancellationToken).ConfigureAwait(false);
        return value;
    }

    // Found is separate from the value, so that a cached 0, false or null is a hit, not a miss.
    private async Task<(bool Found, T? Value)> LookupAsync<T>(string key, CancellationToken cancellationToken)
    {
        string redisKey = RedisKey(key);
        RedisValue raw;
        try
        {
            raw = await _database.StringGetAsync(redisKey).ConfigureAwait(false);
        }
        catch (Exception e) when (RedisOutage.IsRedisFailure(e))
        {
            _outage.Failed(e, "GET", redisKey);
            return (false, default);
        }
        _outage.Answered();
        if (raw.IsNull) return (false, default);
        try
        {
            return (true, JsonSerializer.Deserialize<T>((byte[])raw!, _jsonOptions));
        }
        catch (JsonException e)
        {
            CachingLog.CorruptValue(_logger, Component, redisKey, typeof(T).Name, e.Message);
            return (false, default);
        }
    }
}
