using System.Diagnostics;
using FailureSynth.Tests.Aspire;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace FailureSynth.Caching.Tests;

/// <summary>The AppHost's cache stops under a running campaign: the call cache carries on, the processed-event store throws until it returns.</summary>
[Collection(SharedRedis.Name)]
public sealed class RedisOutageTests(SharedRedisFixture redis)
{
    // A stopping server may also answer with an error or cut a reply short; any Redis failure must reach the caller.
    private static bool IsRedisUnavailable(Exception e) => e is RedisException or TimeoutException;

    [Fact]
    public async Task When_redis_stops_the_cache_degrades_and_the_event_store_throws_until_the_AppHost_starts_it_again()
    {
        AppHostInfrastructure infrastructure = redis.Infrastructure;
        // A short command timeout keeps each failed call short; production keeps the default 5 s. 1 s rather than less:
        // on a loaded 2-core machine a healthy command can take a few hundred ms.
        await using ConnectionMultiplexer connection = await redis.ConnectAsync(",syncTimeout=1000,asyncTimeout=1000,connectTimeout=1000,abortConnect=false");
        IDatabase database = connection.GetDatabase();
        var cacheLog = new RecordingLogger();
        var cache = new RedisCallCache(database, "fs:outage:", cacheLog);
        var processed = new RedisProcessedEventStore(database);
        string key = RedisCallCache.Key("model", "prompt");
        long setupDeadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
        while (!await cache.SetAsync(key, "cached before the outage"))
            Assert.True(Stopwatch.GetTimestamp() < setupDeadline, "the cache could not write to the running server within 10 s");
        Assert.False(cache.IsRedisUnavailable);
        int cacheWarnings = cacheLog.Count(LogLevel.Warning, "Redis is unavailable to the call cache");
        int cacheReturns = cacheLog.Count(LogLevel.Information, "Redis answers the call cache again");

        await infrastructure.StopAsync("cache"); // Aspire's stop command: the redis-server process ends

        var timer = Stopwatch.StartNew();
        Assert.Null(await cache.GetAsync<string>(key));
        Assert.False(await cache.SetAsync(key, "not stored"));
        Assert.Equal("computed", await cache.GetOrCreateAsync(["model", "prompt"], _ => Task.FromResult("computed")));
        Assert.True(cache.IsRedisUnavailable);
        Assert.True(IsRedisUnavailable(await Assert.ThrowsAnyAsync<Exception>(() => processed.IsProcessedAsync("svc/H", "event-1"))));
        Assert.True(IsRedisUnavailable(await Assert.ThrowsAnyAsync<Exception>(() => processed.TryMarkProcessedAsync("svc/H", "event-1"))));
        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(30), $"the calls during the outage took {timer.Elapsed.TotalSeconds:0.0} s; each should fail within its timeout");
        // One warning when the outage starts, not one per call.
        Assert.Equal(cacheWarnings + 1, cacheLog.Count(LogLevel.Warning, "Redis is unavailable to the call cache"));

        // The server comes back empty (nothing is persisted): the cache recomputes and stores again.
        await infrastructure.StartAsync("cache");
        long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 30;
        while (!await cache.SetAsync(RedisCallCache.Key("probe"), "x"))
        {
            Assert.True(Stopwatch.GetTimestamp() < deadline, "the cache did not reach the restarted server within 30 s");
            await Task.Delay(100);
        }
        Assert.False(cache.IsRedisUnavailable);
        Assert.Equal(cacheReturns + 1, cacheLog.Count(LogLevel.Information, "Redis answers the call cache again"));
        Assert.Null(await cache.GetAsync<string>(key));
        Assert.Equal("recomputed", await cache.GetOrCreateAsync(["model", "prompt"], _ => Task.FromResult("recomputed")));
        Assert.True(await processed.TryMarkProcessedAsync("svc/H", "event-1"));
    }
}
