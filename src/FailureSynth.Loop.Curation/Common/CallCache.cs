using System.Collections.Concurrent;
using System.Text.Json;

namespace FailureSynth.Loop.Common;

/// <summary>
/// A cache of model calls keyed by a hash of what determines the reply (endpoint, model, prompt): Redis in the services
/// (the services' <c>RedisCallCache</c> has the same two calls; the Caching library does not depend on the loop, so a service
/// adapts it where it needs one), memory in a CLI run. A miss is never an error; a cache is an accelerator only.
/// </summary>
public interface ICallCache
{
    /// <summary>The cached value, or default on a miss.</summary>
    Task<T?> GetAsync<T>(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores the value; false when it could not be stored (it is then simply not cached).</summary>
    Task<bool> SetAsync<T>(string key, T value, TimeSpan? ttl = null, CancellationToken cancellationToken = default);
}

/// <summary>An in-process <see cref="ICallCache"/>; values are stored as JSON so a hit returns a copy, as Redis would.</summary>
public sealed class InMemoryCallCache : ICallCache
{
    private readonly ConcurrentDictionary<string, byte[]> _values = new(StringComparer.Ordinal);

    public int Count => _values.Count;

    public Task<T?> GetAsync<T>(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(_values.TryGetValue(key, out var json) ? JsonSerializer.Deserialize<T>(json) : default);

    public Task<bool> SetAsync<T>(string key, T value, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        _values[key] = JsonSerializer.SerializeToUtf8Bytes(value);
        return Task.FromResult(true);
    }
}
