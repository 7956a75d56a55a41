using System.Globalization;
using FailureSynth.Redis;

namespace FailureSynth.Caching.Tests;

[Collection(SharedRedis.Name)]
public sealed class RedisDuplicateRegistryTests(SharedRedisFixture redis)
{
    private static string DuplicateKey(int i) => "dupkey" + i.ToString("D4", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Two_replicas_racing_on_the_same_500_keys_get_exactly_one_winner_per_key()
    {
        const int Keys = 500;
        string campaign = redis.UniqueName("race");
        await using RedisConnection replicaA = await redis.Server.ConnectAsync();
        await using RedisConnection replicaB = await redis.Server.ConnectAsync();
        var registryA = new RedisDuplicateRegistry(replicaA.GetDatabase(), campaign);
        var registryB = new RedisDuplicateRegistry(replicaB.GetDatabase(), campaign);

        // Both replicas fire every claim at once, from their own threads, over their own sockets.
        using var start = new Barrier(2);
        Task<bool[]> Claim(RedisDuplicateRegistry registry, string replica) => Task.Run(() =>
        {
            start.SignalAndWait();
            return Task.WhenAll(Enumerable.Range(0, Keys).Select(i => registry.TryAddAsync(DuplicateKey(i), $"{replica}-{i}", CancellationToken.None)));
        });
        Task<bool[]> claimsA = Claim(registryA, "a");
        Task<bool[]> claimsB = Claim(registryB, "b");
        bool[] wonA = await claimsA;
        bool[] wonB = await claimsB;

        for (int i = 0; i < Keys; i++)
        {
            Assert.True(wonA[i] ^ wonB[i], $"key {i}: replica a {(wonA[i] ? "won" : "lost")}, replica b {(wonB[i] ? "won" : "lost")}; exactly one must win");
            string winner = wonA[i] ? $"a-{i}" : $"b-{i}";
            Assert.Equal(winner, (string?)await redis.Database.StringGetAsync(RedisKeys.Duplicate(campaign, DuplicateKey(i))));
            // A redelivered claim gets the verdict it got the first time, on whichever replica it lands.
            Assert.True(await registryB.TryAddAsync(DuplicateKey(i), winner, CancellationToken.None));
            Assert.False(await registryA.TryAddAsync(DuplicateKey(i), wonA[i] ? $"b-{i}" : $"a-{i}", CancellationToken.None));
        }
    }

    [Fact]
    public async Task The_same_sample_claiming_twice_is_accepted_both_times_and_another_sample_is_refused()
    {
        string campaign = redis.UniqueName("redelivery");
        var registry = new RedisDuplicateRegistry(redis.Database, campaign);

        Assert.True(await registry.TryAddAsync("k", "sample-1", CancellationToken.None));
        Assert.True(await registry.TryAddAsync("k", "sample-1", CancellationToken.None));
        Assert.False(await registry.TryAddAsync("k", "sample-2", CancellationToken.None));
        Assert.True(await new RedisDuplicateRegistry(redis.Database, campaign).TryAddAsync("k", "sample-1", CancellationToken.None));
        Assert.Equal("sample-1", (string?)await redis.Database.StringGetAsync($"fs:{campaign}:dup:k"));
    }

    [Fact]
    public async Task Campaigns_keep_separate_claims()
    {
        var first = new RedisDuplicateRegistry(redis.Database, redis.UniqueName("campaign"));
        var second = new RedisDuplicateRegistry(redis.Database, redis.UniqueName("campaign"));

        Assert.True(await first.TryAddAsync("k", "sample-1", CancellationToken.None));
        Assert.True(await second.TryAddAsync("k", "sample-2", CancellationToken.None));
    }

    [Fact]
    public async Task Claims_do_not_expire_unless_a_ttl_is_given()
    {
        string campaign = redis.UniqueName("ttl");
        await new RedisDuplicateRegistry(redis.Database, campaign).TryAddAsync("forever", "s", CancellationToken.None);
        await new RedisDuplicateRegistry(redis.Database, campaign, TimeSpan.FromMinutes(10)).TryAddAsync("ten-minutes", "s", CancellationToken.None);

        Assert.Equal(-1, (await redis.Database.ExecuteAsync("TTL", RedisKeys.Duplicate(campaign, "forever"))).AsInt64());
        long ttl = (await redis.Database.ExecuteAsync("TTL", RedisKeys.Duplicate(campaign, "ten-minutes"))).AsInt64();
        Assert.InRange(ttl, 590, 600);
    }

    [Fact]
    public async Task A_claim_that_vanishes_before_its_owner_is_read_is_claimed_again()
    {
        string campaign = redis.UniqueName("vanish");
        var database = new ClaimVanishingDatabase(redis.Database, vanishings: 1);
        var registry = new RedisDuplicateRegistry(database, campaign);
        Assert.True(await registry.TryAddAsync("k", "old-owner", CancellationToken.None));

        Assert.True(await registry.TryAddAsync("k", "new-owner", CancellationToken.None));

        Assert.Equal(1, database.Vanished);
        Assert.Equal("new-owner", (string?)await redis.Database.StringGetAsync(RedisKeys.Duplicate(campaign, "k")));
    }

    [Fact]
    public async Task A_claim_that_keeps_vanishing_fails_with_a_message_saying_what_to_change()
    {
        string campaign = redis.UniqueName("vanish-forever");
        var registry = new RedisDuplicateRegistry(new ClaimVanishingDatabase(redis.Database, vanishings: int.MaxValue, reclaimedByOthers: true), campaign);
        Assert.True(await registry.TryAddAsync("k", "owner", CancellationToken.None));

        var error = await Assert.ThrowsAsync<RedisException>(() => registry.TryAddAsync("k", "other", CancellationToken.None));

        Assert.Contains(RedisKeys.Duplicate(campaign, "k"), error.Message);
        Assert.Contains("5 times", error.Message);
        Assert.Contains("longer TTL", error.Message);
    }

    [Fact]
    public async Task Unusable_arguments_are_refused_with_the_input_named()
    {
        Assert.Contains("campaign id", Assert.Throws<ArgumentException>(() => new RedisDuplicateRegistry(redis.Database, " ")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RedisDuplicateRegistry(redis.Database, "c", TimeSpan.Zero));
        var registry = new RedisDuplicateRegistry(redis.Database, redis.UniqueName("arguments"));
        Assert.Contains("sample-9", (await Assert.ThrowsAsync<ArgumentException>(() => registry.TryAddAsync("", "sample-9", CancellationToken.None))).Message);
        Assert.Contains("'k'", (await Assert.ThrowsAsync<ArgumentException>(() => registry.TryAddAsync("k", "", CancellationToken.None))).Message);
    }
}
