using System.Diagnostics;
using FailureSynth.Redis;
using Microsoft.Extensions.Logging;

namespace FailureSynth.Caching.Tests;

/// <summary>Redis stops under a running campaign: the accelerators carry on, the stores that decide correctness throw.</summary>
public sealed class RedisOutageTests
{
    // A stopping server may also answer with an error or cut a reply short; any Redis failure must reach the caller.
    private static bool IsRedisUnavailable(Exception e) => e is RedisException or TimeoutException;

    [Fact]
    public async Task When_redis_stops_the_cache_and_counters_degrade_and_the_registry_and_event_store_throw_until_it_returns()
    {
        await using TemporaryRedisServer server = await TemporaryRedisServer.StartAsync();
        // A short command timeout keeps each failed call short (during the outage every command waits it out); production
        // keeps the default 5 s. 1 s rather than less: on a loaded 2-core machine a healthy command can take a few hundred ms.
        await using RedisConnection connection = await server.ConnectAsync(",syncTimeout=1000");
        IRedisDatabase database = connection.GetDatabase();
        var cacheLog = new RecordingLogger();
        var counterLog = new RecordingLogger();
        var cache = new RedisCallCache(database, "fs:outage:", cacheLog);
        var counters = new CampaignProgressCounters(database, "outage", counterLog);
        var registry = new RedisDuplicateRegistry(database, "outage");
        var processed = new RedisProcessedEventStore(database);
        string key = RedisCallCache.Key("model", "prompt");
        // On a loaded machine (CI builds other test projects beside this one) a command can outlast the short timeout.
        // Before the outage that is noise: retry the writes, and count the components' log lines from here on, so the
        // outage's own lines are what is checked.
        long setupDeadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
        while (!await cache.SetAsync(key, "cached before the outage"))
            Assert.True(Stopwatch.GetTimestamp() < setupDeadline, "the cache could not write to the running server within 10 s");
        long? accepted;
        while ((accepted = await counters.IncrementAsync("filter.accepted")) is null)
            Assert.True(Stopwatch.GetTimestamp() < setupDeadline, "the counters could not write to the running server within 10 s");
        // A timed-out increment may still have landed, so a retry can read more than 1.
        Assert.True(accepted.Value >= 1, $"the counter read {accepted.Value} after being incremented");
        Assert.False(cache.IsRedisUnavailable);
        Assert.False(counters.IsRedisUnavailable);
        int cacheWarnings = cacheLog.Count(LogLevel.Warning, "Redis is unavailable to the call cache");
        int counterWarnings = counterLog.Count(LogLevel.Warning, "Redis is unavailable to the campaign progress counters");
        int cacheReturns = cacheLog.Count(LogLevel.Information, "Redis answers the call cache again");

        await server.Process.StopAsync();

        var timer = Stopwatch.StartNew();
        Assert.Null(await cache.GetAsync<string>(key));
        Assert.False(await cache.SetAsync(key, "not stored"));
        Assert.Equal("computed", await cache.GetOrCreateAsync(["model", "prompt"], _ => Task.FromResult("computed")));
        Assert.Null(await counters.IncrementAsync("filter.accepted"));
        Assert.Empty(await counters.GetAllAsync());
        Assert.True(cache.IsRedisUnavailable);
        Assert.True(counters.IsRedisUnavailable);
        Assert.True(IsRedisUnavailable(await Assert.ThrowsAnyAsync<Exception>(() => registry.TryAddAsync("k", "sample-1", CancellationToken.None))));
        Assert.True(IsRedisUnavailable(await Assert.ThrowsAnyAsync<Exception>(() => processed.IsProcessedAsync("svc/H", "event-1"))));
        Assert.True(IsRedisUnavailable(await Assert.ThrowsAnyAsync<Exception>(() => processed.TryMarkProcessedAsync("svc/H", "event-1"))));
        // About ten commands, each failing at its 1 s timeout at worst: far below the 5 s default per command they would otherwise wait.
        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(30), $"the calls during the outage took {timer.Elapsed.TotalSeconds:0.0} s; each should fail within its timeout");

        // One warning when the outage starts, not one per call.
        Assert.Equal(cacheWarnings + 1, cacheLog.Count(LogLevel.Warning, "Redis is unavailable to the call cache"));
        Assert.Equal(counterWarnings + 1, counterLog.Count(LogLevel.Warning, "Redis is unavailable to the campaign progress counters"));

        // The server comes back empty (nothing is persisted): the cache recomputes and stores again.
        await server.Process.RestartAsync();
        long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
        while (!await cache.SetAsync(RedisCallCache.Key("probe"), "x"))
            Assert.True(Stopwatch.GetTimestamp() < deadline, "the cache did not reach the restarted server within 10 s");
        Assert.False(cache.IsRedisUnavailable);
        Assert.Equal(cacheReturns + 1, cacheLog.Count(LogLevel.Information, "Redis answers the call cache again"));
        Assert.Null(await cache.GetAsync<string>(key));
        Assert.Equal("recomputed", await cache.GetOrCreateAsync(["model", "prompt"], _ => Task.FromResult("recomputed")));
        Assert.Equal("recomputed", await cache.GetAsync<string>(key));
        Assert.True(await registry.TryAddAsync("k", "sample-1", CancellationToken.None));
        Assert.Equal(1, await counters.IncrementAsync("filter.accepted"));
        Assert.False(counters.IsRedisUnavailable);
    }
}
