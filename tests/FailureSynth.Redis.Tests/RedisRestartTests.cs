using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit.Abstractions;
using FailureSynth.Hosting.Redis;

namespace FailureSynth.Redis.Tests;

/// <summary>
/// Issue 5's must-show: a stream of commands keeps its integrity across a server restart or
/// crash. Each test runs a server of its own.
/// </summary>
public sealed class RedisRestartTests(ITestOutputHelper output)
{
    private const int Workers = 24;
    private static readonly TimeSpan s_phaseLimit = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_RESP_client_survives_a_redis_server_restart_during_a_stream_of_commands_without_a_wrong_reply()
    {
        await RunStreamAcrossAsync(server => server.RestartAsync());
    }

    [Fact]
    public async Task The_RESP_client_survives_a_killed_redis_server_and_its_restart_without_a_wrong_reply()
    {
        await RunStreamAcrossAsync(async server =>
        {
            server.Kill();
            // Let the stream run into the dead server for a moment before it comes back.
            await Task.Delay(300);
            await server.RestartAsync();
        });
    }

    [Fact]
    public async Task After_a_kill_in_flight_commands_fail_waiting_commands_run_on_the_new_server_and_abandoned_ones_never_run()
    {
        await using OwnedRedisServer owned = await OwnedRedisServer.StartAsync();
        RedisServerProcess server = owned.Process;
        await using RedisConnection connection = await RedisConnection.ConnectAsync(server.ConnectionString + ",syncTimeout=10000");
        await using RedisConnection blocking = await RedisConnection.ConnectAsync(server.ConnectionString + ",syncTimeout=10000");
        await using RedisConnection impatient = await RedisConnection.ConnectAsync(server.ConnectionString + ",syncTimeout=300");
        IRedisDatabase db = connection.GetDatabase();

        // A command that is certainly in flight when the server dies: BLPOP blocks until then.
        Task<RedisResult> inFlight = blocking.GetDatabase().ExecuteAsync("BLPOP", "never-filled", "0");
        await Eventually.TrueAsync(async () => (await db.ExecuteAsync("CLIENT", "LIST")).AsString()!.Contains("cmd=blpop"),
            TimeSpan.FromSeconds(10), "BLPOP to reach the server");

        server.Kill();

        var inFlightError = await Assert.ThrowsAsync<RedisConnectionException>(() => inFlight);
        Assert.Contains("BLPOP waited for its reply", inFlightError.Message);
        await Eventually.TrueAsync(() => !connection.IsConnected && !impatient.IsConnected, TimeSpan.FromSeconds(10), "both connections to notice the kill");

        // Issued while the server is down: this one waits for the reconnect...
        Task<bool> waiting = db.StringSetAsync("written-after-kill", "yes");
        // ...and this one gives up first; it must not run later.
        var abandoned = await Assert.ThrowsAsync<RedisTimeoutException>(() => impatient.GetDatabase().StringIncrementAsync("abandoned-counter"));
        Assert.Contains("it was never sent", abandoned.Message);
        Assert.False(waiting.IsCompleted);

        await server.RestartAsync();

        Assert.True(await waiting);
        Assert.Equal("yes", (string?)await db.StringGetAsync("written-after-kill"));
        await Eventually.TrueAsync(() => impatient.IsConnected, TimeSpan.FromSeconds(10), "the impatient connection to reconnect");
        // Anything the impatient connection still held would have been sent before this PING.
        await impatient.GetDatabase().PingAsync();
        Assert.True((await db.StringGetAsync("abandoned-counter")).IsNull);
        Assert.Equal(1, connection.ReconnectCount);
    }

    [Fact]
    public async Task Subscriptions_are_renewed_after_the_server_restarts()
    {
        await using OwnedRedisServer owned = await OwnedRedisServer.StartAsync();
        await using RedisConnection connection = await RedisConnection.ConnectAsync(owned.Process.ConnectionString);
        IRedisSubscriber subscriber = connection.GetSubscriber();
        var received = new ConcurrentQueue<string?>();
        await subscriber.SubscribeAsync("updates", (_, m) => received.Enqueue(m));
        Assert.Equal(1, await connection.GetDatabase().PublishAsync("updates", "before"));
        // Pub/sub delivers at most once: a message still in the socket when the server dies may be lost.
        await Eventually.TrueAsync(() => received.Contains("before"), TimeSpan.FromSeconds(10), "the message before the kill");

        owned.Process.Kill();
        await owned.Process.RestartAsync();

        // Publishing reaches the subscriber again once its new socket has renewed the subscription.
        // The command connection may learn of the kill only by losing a PUBLISH to it: that is allowed.
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return await connection.GetDatabase().PublishAsync("updates", "after") == 1;
            }
            catch (RedisConnectionException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10), "the subscription to be renewed");
        await Eventually.TrueAsync(() => received.Contains("after"), TimeSpan.FromSeconds(10), "the message after the restart");
        Assert.Equal("before", received.First());
        Assert.True(subscriber.IsConnected);
    }

    // Workers write and read back unique values in a loop while the disruption happens; every
    // reply must be exactly the one for its command.
    private async Task RunStreamAcrossAsync(Func<RedisServerProcess, Task> disrupt)
    {
        await using OwnedRedisServer owned = await OwnedRedisServer.StartAsync();
        RedisServerProcess server = owned.Process;
        await using RedisConnection connection = await RedisConnection.ConnectAsync(server.ConnectionString + ",syncTimeout=3000");
        IRedisDatabase db = connection.GetDatabase();
        var stream = new CommandStream(db);

        using var stop = new CancellationTokenSource();
        Task[] workers = [.. Enumerable.Range(0, Workers).Select(i => Task.Run(() => stream.RunWorkerAsync(i, stop.Token)))];

        await Eventually.TrueAsync(() => stream.CheckedPairs >= 1500, s_phaseLimit, "the stream to get going");
        int processBefore = server.ProcessId;
        await disrupt(server);
        long checkedAtRecovery = stream.CheckedPairs;
        long recoveryStart = Stopwatch.GetTimestamp();
        while (stream.CheckedPairs < checkedAtRecovery + 1500 && Stopwatch.GetElapsedTime(recoveryStart) < s_phaseLimit)
            await Task.Delay(20);
        stop.Cancel();
        await Task.WhenAll(workers);
        output.WriteLine(stream.Summary());

        // The wrong replies first: they say more than a stream that merely stalled.
        Assert.Empty(stream.WrongReplies);
        Assert.Empty(stream.UnexpectedFailures);
        Assert.True(stream.CheckedPairs >= checkedAtRecovery + 1500,
            $"After the disruption only {stream.CheckedPairs - checkedAtRecovery} SET/GET pairs succeeded within {s_phaseLimit.TotalSeconds} s.");
        Assert.NotEqual(processBefore, server.ProcessId);
        Assert.True(connection.ReconnectCount >= 1, "The connection never reconnected, so the server was not really restarted under it.");
        // A worker sees a null GET only when its SET ran on the old server and its GET on the new one.
        Assert.All(stream.NullReads, count => Assert.InRange(count, 0, 1));

        string key = "after-the-stream";
        Assert.True(await db.StringSetAsync(key, "fine"));
        Assert.Equal("fine", (string?)await db.StringGetAsync(key));
    }

    private sealed class CommandStream(IRedisDatabase db)
    {
        private long _checkedPairs;

        public long CheckedPairs => Interlocked.Read(ref _checkedPairs);

        public ConcurrentQueue<string> WrongReplies { get; } = new();

        public ConcurrentQueue<Exception> UnexpectedFailures { get; } = new();

        public int[] NullReads { get; } = new int[Workers];

        private long _connectionFailures;
        private long _timeouts;

        public string Summary() =>
            $"{CheckedPairs} SET/GET pairs checked; lost to the disruption: {Interlocked.Read(ref _connectionFailures)} RedisConnectionException, " +
            $"{Interlocked.Read(ref _timeouts)} RedisTimeoutException, {NullReads.Sum()} null GET; wrong replies: {WrongReplies.Count}; other failures: {UnexpectedFailures.Count}";

        public async Task RunWorkerAsync(int worker, CancellationToken stop)
        {
            string key = $"stream:{worker}";
            for (long iteration = 0; !stop.IsCancellationRequested; iteration++)
            {
                string value = $"worker {worker} iteration {iteration}";
                bool written;
                try
                {
                    written = await db.StringSetAsync(key, value);
                }
                catch (Exception e)
                {
                    Classify(e);
                    continue;
                }
                if (!written)
                {
                    WrongReplies.Enqueue($"SET {key} {value} answered false");
                    continue;
                }

                RedisValue read;
                try
                {
                    read = await db.StringGetAsync(key);
                }
                catch (Exception e)
                {
                    Classify(e);
                    continue;
                }
                if (read.IsNull)
                    NullReads[worker]++;
                else if ((string?)read != value)
                    WrongReplies.Enqueue($"GET {key} after SET '{value}' answered '{read}'");
                else
                    Interlocked.Increment(ref _checkedPairs);
            }
        }

        // Losing a command to the restart is allowed; anything else is a failure of the client.
        private void Classify(Exception e)
        {
            if (e is RedisConnectionException) Interlocked.Increment(ref _connectionFailures);
            else if (e is RedisTimeoutException) Interlocked.Increment(ref _timeouts);
            else UnexpectedFailures.Enqueue(e);
        }
    }
}
