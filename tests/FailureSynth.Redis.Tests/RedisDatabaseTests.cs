using System.Diagnostics;

namespace FailureSynth.Redis.Tests;

[Collection(SharedRedisServer.Name)]
public sealed class RedisDatabaseTests(RedisServerFixture redis)
{
    private readonly IRedisDatabase _db = redis.Database;

    [Fact]
    public async Task String_set_and_get_round_trip_text_and_binary_values()
    {
        string key = redis.UniqueKey("string");
        Assert.True((await _db.StringGetAsync(key)).IsNull);
        Assert.True(await _db.StringSetAsync(key, "héllo wörld"));
        Assert.Equal("héllo wörld", (string?)await _db.StringGetAsync(key));

        byte[] binary = [0, 13, 10, 255, 36, 42];
        Assert.True(await _db.StringSetAsync(key, binary));
        Assert.Equal(binary, (byte[]?)await _db.StringGetAsync(key));
    }

    [Fact]
    public async Task Set_with_NotExists_writes_only_a_new_key()
    {
        string key = redis.UniqueKey("nx");
        Assert.True(await _db.StringSetAsync(key, "first", when: When.NotExists));
        Assert.False(await _db.StringSetAsync(key, "second", when: When.NotExists));
        Assert.Equal("first", (string?)await _db.StringGetAsync(key));
    }

    [Fact]
    public async Task Set_with_Exists_writes_only_an_existing_key()
    {
        string key = redis.UniqueKey("xx");
        Assert.False(await _db.StringSetAsync(key, "ghost", when: When.Exists));
        Assert.False(await _db.KeyExistsAsync(key));
        await _db.StringSetAsync(key, "one");
        Assert.True(await _db.StringSetAsync(key, "two", when: When.Exists));
        Assert.Equal("two", (string?)await _db.StringGetAsync(key));
    }

    [Fact]
    public async Task Set_with_an_expiry_gives_the_key_that_time_to_live()
    {
        string seconds = redis.UniqueKey("ex");
        await _db.StringSetAsync(seconds, "v", TimeSpan.FromSeconds(100));
        long ttl = (await _db.ExecuteAsync("TTL", seconds)).AsInt64();
        Assert.InRange(ttl, 98, 100);

        string millis = redis.UniqueKey("px");
        await _db.StringSetAsync(millis, "v", TimeSpan.FromMilliseconds(150), When.NotExists);
        Assert.True(await _db.KeyExistsAsync(millis));
        await Eventually.TrueAsync(async () => !await _db.KeyExistsAsync(millis), TimeSpan.FromSeconds(5), "the key with a 150 ms expiry to expire");
    }

    [Fact]
    public async Task Set_rejects_a_null_value_and_a_non_positive_expiry_naming_the_key()
    {
        var nullError = await Assert.ThrowsAsync<ArgumentException>(() => _db.StringSetAsync("k1", RedisValue.Null));
        Assert.Contains("'k1' is null", nullError.Message);
        var expiryError = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _db.StringSetAsync("k2", "v", TimeSpan.Zero));
        Assert.Contains("'k2' must be positive", expiryError.Message);
    }

    [Fact]
    public async Task Key_delete_exists_and_expire_report_what_happened()
    {
        string key = redis.UniqueKey("key");
        Assert.False(await _db.KeyExpireAsync(key, TimeSpan.FromSeconds(10)));
        await _db.StringSetAsync(key, "v");
        Assert.True(await _db.KeyExistsAsync(key));
        Assert.True(await _db.KeyExpireAsync(key, TimeSpan.FromSeconds(30)));
        long pttl = (await _db.ExecuteAsync("PTTL", key)).AsInt64();
        Assert.InRange(pttl, 25_000, 30_000);
        Assert.True(await _db.KeyDeleteAsync(key));
        Assert.False(await _db.KeyDeleteAsync(key));
        Assert.False(await _db.KeyExistsAsync(key));
    }

    [Fact]
    public async Task String_increment_adds_to_a_counter_starting_from_zero()
    {
        string key = redis.UniqueKey("incr");
        Assert.Equal(1, await _db.StringIncrementAsync(key));
        Assert.Equal(11, await _db.StringIncrementAsync(key, 10));
        Assert.Equal(-4, await _db.StringIncrementAsync(key, -15));
        Assert.Equal(-4L, (long)await _db.StringGetAsync(key));
    }

    [Fact]
    public async Task Hash_increment_adds_to_a_field_and_leaves_the_others()
    {
        string key = redis.UniqueKey("hincr");
        Assert.Equal(5, await _db.HashIncrementAsync(key, "passed", 5));
        Assert.Equal(6, await _db.HashIncrementAsync(key, "passed"));
        Assert.Equal(-2, await _db.HashIncrementAsync(key, "failed", -2));
        HashEntry[] entries = await _db.HashGetAllAsync(key);
        Assert.Equal([new HashEntry("failed", "-2"), new HashEntry("passed", "6")], entries.OrderBy(e => e.Name, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Hash_set_and_get_all_round_trip_fields()
    {
        string key = redis.UniqueKey("hash");
        Assert.Empty(await _db.HashGetAllAsync(key));
        Assert.True(await _db.HashSetAsync(key, "a", "1"));
        Assert.False(await _db.HashSetAsync(key, "a", "2"));
        await _db.HashSetAsync(key, [new HashEntry("b", "x"), new HashEntry("c", new byte[] { 0, 1 })]);
        await _db.HashSetAsync(key, []);

        HashEntry[] entries = (await _db.HashGetAllAsync(key)).OrderBy(e => e.Name, StringComparer.Ordinal).ToArray();
        Assert.Equal(["a", "b", "c"], entries.Select(e => e.Name));
        Assert.Equal("2", (string?)entries[0].Value);
        Assert.Equal("x", (string?)entries[1].Value);
        Assert.Equal(new byte[] { 0, 1 }, (byte[]?)entries[2].Value);
    }

    [Fact]
    public async Task Set_add_and_contains_track_members()
    {
        string key = redis.UniqueKey("set");
        Assert.False(await _db.SetContainsAsync(key, "m"));
        Assert.True(await _db.SetAddAsync(key, "m"));
        Assert.False(await _db.SetAddAsync(key, "m"));
        Assert.True(await _db.SetContainsAsync(key, "m"));
        Assert.False(await _db.SetContainsAsync(key, "n"));
    }

    [Fact]
    public async Task Publish_without_subscribers_reaches_nobody()
    {
        Assert.Equal(0, await _db.PublishAsync(redis.UniqueKey("nobody-listens"), "hello"));
    }

    [Fact]
    public async Task Scan_finds_exactly_the_keys_written_over_many_pages()
    {
        string prefix = redis.UniqueKey("scan");
        string[] written = [.. Enumerable.Range(0, 700).Select(i => $"{prefix}:{i}")];
        await Task.WhenAll(written.Select(k => _db.StringSetAsync(k, "v")));
        await _db.StringSetAsync(prefix + "-not-matching", "v");

        long scansBefore = await ScanCallsAsync();
        var found = new List<string>();
        await foreach (string key in _db.ScanAsync(prefix + ":*", pageSize: 50))
            found.Add(key);
        long pages = await ScanCallsAsync() - scansBefore;

        Assert.Equal(written.Order(StringComparer.Ordinal), found.Order(StringComparer.Ordinal));
        Assert.True(pages > 1, $"The walk took {pages} SCAN call(s); 700 keys at COUNT 50 need several.");
    }

    [Fact]
    public async Task Ping_measures_a_round_trip()
    {
        TimeSpan roundTrip = await _db.PingAsync();
        Assert.InRange(roundTrip, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Flush_database_empties_only_the_selected_database()
    {
        await using RedisConnection database3 = await RedisConnection.ConnectAsync(redis.Server.ConnectionString + ",defaultDatabase=3");
        IRedisDatabase db3 = database3.GetDatabase();
        Assert.Equal(3, db3.Database);
        string key = redis.UniqueKey("flush");
        await db3.StringSetAsync(key, "in db 3");
        await _db.StringSetAsync(key, "in db 0");

        await db3.FlushDatabaseAsync();

        Assert.False(await db3.KeyExistsAsync(key));
        Assert.Equal("in db 0", (string?)await _db.StringGetAsync(key));
    }

    [Fact]
    public async Task Execute_runs_any_command_and_returns_its_raw_reply()
    {
        string key = redis.UniqueKey("exec");
        RedisResult pushed = await _db.ExecuteAsync("RPUSH", key, "a", "b", 3L);
        Assert.Equal(":3", pushed.ToString());
        RedisResult range = await _db.ExecuteAsync("LRANGE", [key, 0, -1], CancellationToken.None);
        Assert.Equal("[\"a\", \"b\", \"3\"]", range.ToString());
        Assert.Equal("+PONG", (await _db.ExecuteAsync("ping")).ToString());
    }

    [Fact]
    public async Task A_server_error_reply_surfaces_as_RedisServerException_and_the_connection_goes_on()
    {
        string key = redis.UniqueKey("error");
        await _db.StringSetAsync(key, "not a number");

        var notInteger = await Assert.ThrowsAsync<RedisServerException>(() => _db.StringIncrementAsync(key));
        Assert.Equal("INCRBY", notInteger.Command);
        Assert.StartsWith("ERR value is not an integer", notInteger.ServerMessage);
        Assert.Contains("Redis rejected INCRBY: ERR value is not an integer", notInteger.Message);

        var wrongType = await Assert.ThrowsAsync<RedisServerException>(() => _db.HashIncrementAsync(key, "f"));
        Assert.StartsWith("WRONGTYPE", wrongType.ServerMessage);

        var unknown = await Assert.ThrowsAsync<RedisServerException>(() => _db.ExecuteAsync("NOSUCHCOMMAND", "x"));
        Assert.StartsWith("ERR unknown command", unknown.ServerMessage);

        Assert.Equal("not a number", (string?)await _db.StringGetAsync(key));
    }

    [Fact]
    public async Task Ten_thousand_concurrent_increments_are_pipelined_and_each_gets_its_own_reply()
    {
        string key = redis.UniqueKey("pipelined");
        var stopwatch = Stopwatch.StartNew();
        long[] replies = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(_ => _db.StringIncrementAsync(key)));
        stopwatch.Stop();

        Assert.Equal(10_000L, (long)await _db.StringGetAsync(key));
        // Each INCR's reply is the counter right after it: all different, 1..10000, none lost or shared.
        Assert.Equal(Enumerable.Range(1, 10_000).Select(i => (long)i), replies.Order());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"10,000 INCRs took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Concurrent_gets_of_distinct_keys_each_receive_their_own_value()
    {
        string prefix = redis.UniqueKey("distinct");
        await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => _db.StringSetAsync($"{prefix}:{i}", $"value-{i}")));
        RedisValue[] values = await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => _db.StringGetAsync($"{prefix}:{i}")));
        for (int i = 0; i < values.Length; i++)
            Assert.Equal($"value-{i}", (string?)values[i]);
    }

    // The server's own count of SCAN calls; the tests of this collection run one at a time.
    private async Task<long> ScanCallsAsync()
    {
        string stats = (await _db.ExecuteAsync("INFO", "commandstats")).AsString()!;
        int start = stats.IndexOf("cmdstat_scan:calls=", StringComparison.Ordinal);
        if (start < 0) return 0;
        start += "cmdstat_scan:calls=".Length;
        return long.Parse(stats[start..stats.IndexOf(',', start)], System.Globalization.CultureInfo.InvariantCulture);
    }
}
