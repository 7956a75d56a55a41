using FailureSynth.Redis;
using Microsoft.Extensions.Logging;

namespace FailureSynth.Caching.Tests;

[Collection(SharedRedis.Name)]
public sealed class CampaignProgressCountersTests(SharedRedisFixture redis)
{
    [Fact]
    public async Task Increments_from_two_replicas_add_up_per_stage()
    {
        string campaign = redis.UniqueName("progress");
        await using RedisConnection other = await redis.Server.ConnectAsync();
        var replicaA = new CampaignProgressCounters(redis.Database, campaign);
        var replicaB = new CampaignProgressCounters(other.GetDatabase(), campaign);

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => (i % 2 == 0 ? replicaA : replicaB).IncrementAsync("filter.accepted")));
        await replicaA.IncrementAsync("synthesis.proposed", 64);
        long? after = await replicaB.IncrementAsync("synthesis.proposed", 36);

        Assert.Equal(100, after);
        IReadOnlyDictionary<string, long> counters = await replicaA.GetAllAsync();
        Assert.Equal(["filter.accepted", "synthesis.proposed"], counters.Keys);
        Assert.Equal(200, counters["filter.accepted"]);
        Assert.Equal(100, counters["synthesis.proposed"]);
        Assert.Equal(2, (await redis.Database.HashGetAllAsync($"fs:{campaign}:progress")).Length);
    }

    [Fact]
    public async Task A_campaign_with_no_counts_reads_empty_and_stages_come_back_in_ordinal_order()
    {
        var counters = new CampaignProgressCounters(redis.Database, redis.UniqueName("order"));
        Assert.Empty(await counters.GetAllAsync());

        foreach (string stage in new[] { "locate", "Measure", "filter", "b" })
            await counters.IncrementAsync(stage);

        Assert.Equal(["Measure", "b", "filter", "locate"], (await counters.GetAllAsync()).Keys);
    }

    [Fact]
    public async Task A_field_that_is_not_an_integer_is_left_out_and_logged()
    {
        var logger = new RecordingLogger();
        var counters = new CampaignProgressCounters(redis.Database, redis.UniqueName("corrupt"), logger);
        await counters.IncrementAsync("good", 5);
        await redis.Database.HashSetAsync(counters.RedisKey, "bad", "five");

        IReadOnlyDictionary<string, long> all = await counters.GetAllAsync();

        Assert.Equal(5, Assert.Single(all).Value);
        Assert.Equal(1, logger.Count(LogLevel.Warning, "'five'"));
    }

    [Fact]
    public async Task An_empty_campaign_or_stage_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new CampaignProgressCounters(redis.Database, ""));
        var counters = new CampaignProgressCounters(redis.Database, "campaign-x");
        Assert.Contains("campaign-x", (await Assert.ThrowsAsync<ArgumentException>(() => counters.IncrementAsync(""))).Message);
    }
}
