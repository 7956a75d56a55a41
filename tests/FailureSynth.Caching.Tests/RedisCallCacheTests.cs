using StackExchange.Redis;
using Microsoft.Extensions.Logging;

namespace FailureSynth.Caching.Tests;

[Collection(SharedRedis.Name)]
public sealed class RedisCallCacheTests(SharedRedisFixture redis)
{
    public sealed record TeacherReply(string Model, string Text, IReadOnlyList<double> Scores);

    private RedisCallCache NewCache(RecordingLogger? logger = null) => new(redis.Database, redis.UniqueName("fs:test-cache") + ":", logger);

    [Fact]
    public async Task A_value_round_trips_through_json_and_an_unknown_key_is_a_miss()
    {
        RedisCallCache cache = NewCache();
        string key = RedisCallCache.Key("model-a", "What colour is the cube?");
        var reply = new TeacherReply("model-a", "red", [0.25, 1.5]);

        Assert.True(await cache.SetAsync(key, reply));
        TeacherReply? cached = await cache.GetAsync<TeacherReply>(key);

        Assert.NotNull(cached);
        Assert.Equal(reply.Text, cached.Text);
        Assert.Equal(reply.Scores, cached.Scores);
        Assert.Null(await cache.GetAsync<TeacherReply>(RedisCallCache.Key("model-a", "another prompt")));
        Assert.StartsWith("{", (string?)await redis.Database.StringGetAsync(cache.RedisKey(key)));
    }

    [Fact]
    public void Keys_are_the_sha256_of_the_parts_and_keep_the_parts_apart()
    {
        string key = RedisCallCache.Key("model-a", "prompt");

        Assert.Equal(64, key.Length);
        Assert.Matches("^[0-9a-f]{64}$", key);
        Assert.Equal(key, RedisCallCache.Key("model-a", "prompt"));
        Assert.NotEqual(RedisCallCache.Key("ab", "c"), RedisCallCache.Key("a", "bc"));
        Assert.NotEqual(RedisCallCache.Key("model-a", "prompt"), RedisCallCache.Key("model-b", "prompt"));
        Assert.Contains("Part 1", Assert.Throws<ArgumentException>(() => RedisCallCache.Key("model", null!)).Message);
        Assert.Throws<ArgumentException>(() => RedisCallCache.Key());
    }

    [Fact]
    public async Task Get_or_create_runs_the_factory_once_and_counts_a_cached_zero_as_a_hit()
    {
        RedisCallCache cache = NewCache();
        int calls = 0;
        Task<int> Predict(CancellationToken _) { calls++; return Task.FromResult(0); }

        Assert.Equal(0, await cache.GetOrCreateAsync(["student-v3", "sample-17"], Predict));
        Assert.Equal(0, await cache.GetOrCreateAsync(["student-v3", "sample-17"], Predict));

        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task A_factory_that_throws_propagates_and_caches_nothing()
    {
        RedisCallCache cache = NewCache();
        string[] parts = ["model", "prompt that fails"];

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetOrCreateAsync<string>(parts, _ => throw new InvalidOperationException("teacher down")));

        Assert.False(await redis.Database.KeyExistsAsync(cache.RedisKey(RedisCallCache.Key(parts))));
    }

    [Fact]
    public async Task A_corrupt_value_is_a_logged_miss_and_is_overwritten()
    {
        var logger = new RecordingLogger();
        RedisCallCache cache = NewCache(logger);
        string[] parts = ["model-a", "corrupted prompt"];
        string redisKey = cache.RedisKey(RedisCallCache.Key(parts));
        await redis.Database.StringSetAsync(redisKey, "{\"Model\": \"model-a\", \"Text\": ");

        Assert.Null(await cache.GetAsync<TeacherReply>(RedisCallCache.Key(parts)));
        TeacherReply created = await cache.GetOrCreateAsync(parts, _ => Task.FromResult(new TeacherReply("model-a", "blue", [3.0])));

        Assert.Equal("blue", created.Text);
        Assert.Equal("blue", (await cache.GetAsync<TeacherReply>(RedisCallCache.Key(parts)))?.Text);
        Assert.Equal(2, logger.Count(LogLevel.Warning, "not valid JSON"));
        Assert.Contains(redisKey, logger.Entries[0].Message);
    }

    [Fact]
    public async Task A_value_of_the_wrong_shape_is_a_miss_not_an_exception()
    {
        RedisCallCache cache = NewCache();
        string key = RedisCallCache.Key("shape");
        await cache.SetAsync(key, "a string, not a number");

        Assert.Equal(0, await cache.GetAsync<int>(key));
        Assert.Equal(42, await cache.GetOrCreateAsync(["shape"], _ => Task.FromResult(42)));
        Assert.Equal(42, await cache.GetAsync<int>(key));
    }

    [Fact]
    public async Task A_ttl_is_set_on_the_key_and_no_ttl_means_no_expiry()
    {
        RedisCallCache cache = NewCache();
        string withTtl = RedisCallCache.Key("with ttl");
        string withoutTtl = RedisCallCache.Key("without ttl");

        await cache.SetAsync(withTtl, "x", TimeSpan.FromSeconds(90));
        await cache.SetAsync(withoutTtl, "x");
        await cache.GetOrCreateAsync(["created with ttl"], _ => Task.FromResult("y"), TimeSpan.FromMilliseconds(30_500));

        Assert.InRange((await redis.Database.KeyTimeToLiveAsync(cache.RedisKey(withTtl)))!.Value.TotalSeconds, 85, 90);
        Assert.Null(await redis.Database.KeyTimeToLiveAsync(cache.RedisKey(withoutTtl)));
        Assert.InRange((await redis.Database.KeyTimeToLiveAsync(cache.RedisKey(RedisCallCache.Key("created with ttl"))))!.Value.TotalMilliseconds, 25_000, 30_500);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cache.SetAsync(withTtl, "x", TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task After_flushdb_the_cache_misses_and_recomputes_the_same_value()
    {
        // A database of its own, so that the flush touches no other test's keys.
        await using ConnectionMultiplexer connection = await redis.ConnectAsync(",defaultDatabase=3,allowAdmin=true");
        IDatabase database = connection.GetDatabase();
        var cache = new RedisCallCache(database, "fs:flush-test:");
        int calls = 0;
        Task<TeacherReply> Teacher(CancellationToken _)
        {
            calls++;
            return Task.FromResult(new TeacherReply("model-a", "three cubes", [1.0, 2.0]));
        }
        string[] parts = ["model-a", "How many cubes?"];

        TeacherReply first = await cache.GetOrCreateAsync(parts, Teacher);
        TeacherReply cached = await cache.GetOrCreateAsync(parts, Teacher);
        Assert.Equal(1, calls);

        await connection.GetServers().Single().FlushDatabaseAsync(3);
        Assert.Null(await cache.GetAsync<TeacherReply>(RedisCallCache.Key(parts)));
        TeacherReply recomputed = await cache.GetOrCreateAsync(parts, Teacher);
        TeacherReply cachedAgain = await cache.GetOrCreateAsync(parts, Teacher);

        Assert.Equal(2, calls);
        foreach (TeacherReply reply in new[] { cached, recomputed, cachedAgain })
        {
            Assert.Equal(first.Text, reply.Text);
            Assert.Equal(first.Scores, reply.Scores);
        }
    }

    [Fact]
    public void An_empty_prefix_or_key_is_refused_with_what_to_pass_instead()
    {
        Assert.Contains("fs:teacher:", Assert.Throws<ArgumentException>(() => new RedisCallCache(redis.Database, "")).Message);
        Assert.Contains("RedisCallCache.Key", Assert.Throws<ArgumentException>(() => NewCache().RedisKey("")).Message);
    }
}
