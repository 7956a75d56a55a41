using FailureSynth.Messaging;
using StackExchange.Redis;

namespace FailureSynth.Caching.Tests;

[Collection(SharedRedis.Name)]
public sealed class RedisProcessedEventStoreTests(SharedRedisFixture redis)
{
    [Fact]
    public async Task A_mark_made_by_one_replica_is_seen_by_another_and_only_the_first_mark_counts()
    {
        string prefix = redis.UniqueName("fs-processed");
        await using ConnectionMultiplexer other = await redis.ConnectAsync();
        IProcessedEventStore replicaA = new RedisProcessedEventStore(redis.Database, prefix);
        IProcessedEventStore replicaB = new RedisProcessedEventStore(other.GetDatabase(), prefix);

        Assert.False(await replicaA.IsProcessedAsync("svc/Handler", "event-1"));
        Assert.True(await replicaA.TryMarkProcessedAsync("svc/Handler", "event-1"));

        Assert.True(await replicaB.IsProcessedAsync("svc/Handler", "event-1"));
        Assert.False(await replicaB.TryMarkProcessedAsync("svc/Handler", "event-1"));
        Assert.False(await replicaB.IsProcessedAsync("svc/Handler", "event-2"));
        Assert.True(await redis.Database.KeyExistsAsync($"{prefix}:processed:svc/Handler:event-1"));
    }

    [Fact]
    public async Task Each_handler_has_its_own_marks()
    {
        var store = new RedisProcessedEventStore(redis.Database, redis.UniqueName("fs-handlers"));

        Assert.True(await store.TryMarkProcessedAsync("svc/First", "event-1"));

        Assert.False(await store.IsProcessedAsync("svc/Second", "event-1"));
        Assert.True(await store.TryMarkProcessedAsync("svc/Second", "event-1"));
    }

    [Fact]
    public async Task Marks_expire_only_when_a_ttl_is_given()
    {
        string prefix = redis.UniqueName("fs-ttl");
        await new RedisProcessedEventStore(redis.Database, prefix).TryMarkProcessedAsync("h", "forever");
        await new RedisProcessedEventStore(redis.Database, prefix, TimeSpan.FromHours(1)).TryMarkProcessedAsync("h", "one-hour");

        Assert.Null(await redis.Database.KeyTimeToLiveAsync(RedisKeys.Processed(prefix, "h", "forever")));
        Assert.InRange((await redis.Database.KeyTimeToLiveAsync(RedisKeys.Processed(prefix, "h", "one-hour")))!.Value.TotalSeconds, 3590, 3600);
    }

    [Fact]
    public async Task The_default_prefix_is_fs_and_unusable_arguments_are_refused()
    {
        var store = new RedisProcessedEventStore(redis.Database);
        string eventId = redis.UniqueName("event");
        Assert.True(await store.TryMarkProcessedAsync("svc/Default", eventId));
        Assert.True(await redis.Database.KeyExistsAsync($"fs:processed:svc/Default:{eventId}"));

        Assert.Throws<ArgumentException>(() => new RedisProcessedEventStore(redis.Database, ""));
        Assert.Contains("event-7", (await Assert.ThrowsAsync<ArgumentException>(() => store.IsProcessedAsync("", "event-7"))).Message);
        Assert.Contains("svc/H", (await Assert.ThrowsAsync<ArgumentException>(() => store.TryMarkProcessedAsync("svc/H", ""))).Message);
    }
}
