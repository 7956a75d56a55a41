using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FailureSynth.Hosting.Network;

namespace FailureSynth.Redis.Tests;

[Collection(SharedRedisServer.Name)]
public sealed class RedisConnectionTests(RedisServerFixture redis)
{
    private string Endpoint => $"127.0.0.1:{redis.Server.Port}";

    [Fact]
    public async Task A_wrong_password_fails_the_connect_with_a_clear_authentication_error()
    {
        var error = await Assert.ThrowsAsync<RedisAuthenticationException>(() =>
            RedisConnection.ConnectAsync($"{Endpoint},password=not-the-password"));
        Assert.StartsWith("WRONGPASS", error.ServerMessage);
        Assert.Contains($"Redis at {Endpoint} rejected the credentials in the connection string", error.Message);
        Assert.Contains("Check password=", error.Message);
        Assert.DoesNotContain("not-the-password", error.Message);
    }

    [Fact]
    public async Task A_missing_password_fails_the_connect_saying_one_is_required()
    {
        var error = await Assert.ThrowsAsync<RedisAuthenticationException>(() => RedisConnection.ConnectAsync(Endpoint));
        Assert.StartsWith("NOAUTH", error.ServerMessage);
        Assert.Contains("requires a password and the connection string has none", error.Message);
    }

    [Fact]
    public async Task With_abortConnect_false_a_rejected_connection_still_starts_and_commands_time_out_with_the_reason()
    {
        await using RedisConnection connection = await RedisConnection.ConnectAsync($"{Endpoint},password=wrong,abortConnect=false,syncTimeout=300");
        Assert.False(connection.IsConnected);
        var error = await Assert.ThrowsAsync<RedisTimeoutException>(() => connection.GetDatabase().StringGetAsync("k"));
        Assert.Contains("it was never sent, because the connection", error.Message);
        Assert.Contains("WRONGPASS", error.Message);
    }

    [Fact]
    public async Task Connecting_where_no_server_listens_names_the_endpoint_and_what_to_check()
    {
        int port = FreePort();
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() =>
            RedisConnection.ConnectAsync($"127.0.0.1:{port},connectRetry=2,connectTimeout=1000"));
        Assert.Contains($"Could not connect to Redis at 127.0.0.1:{port} in 2 attempt(s)", error.Message);
        Assert.Contains("Check that redis-server is running", error.Message);
        Assert.Contains("abortConnect=false", error.Message);
    }

    [Fact]
    public async Task A_command_without_a_reply_in_time_fails_with_RedisTimeoutException_and_its_late_reply_goes_nowhere()
    {
        await using RedisConnection connection = await RedisConnection.ConnectAsync(redis.Server.ConnectionString + ",syncTimeout=250");
        IRedisDatabase db = connection.GetDatabase();
        string key = redis.UniqueKey("after-timeout");
        await db.StringSetAsync(key, "the right value");

        // BLPOP on an empty list blocks on the server for 0.6 s, well past the 250 ms timeout.
        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisTimeoutException>(() => db.ExecuteAsync("BLPOP", redis.UniqueKey("empty-list"), "0.6"));
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3));
        Assert.Contains("Redis command BLPOP timed out after 250 ms", error.Message);
        // Normally it was sent and its reply comes late; on an overloaded machine it may not have left the queue.
        Assert.Matches("it was sent|it was never sent", error.Message);

        // Once BLPOP's null reply has come (and been dropped), the next command gets its own reply.
        // A misrouted null array would fail GET's reply check; a slow machine may only time it out, so retry that.
        await Task.Delay(800);
        RedisValue value = RedisValue.Null;
        for (int attempt = 1; attempt <= 5; attempt++)
        {
            try
            {
                value = await db.StringGetAsync(key);
                break;
            }
            catch (RedisTimeoutException) when (attempt < 5)
            {
                // Retried: a timed-out GET's own late reply is dropped just like BLPOP's.
            }
        }
        Assert.Equal("the right value", (string?)value);
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task A_cancelled_command_throws_OperationCanceledException()
    {
        IRedisDatabase db = redis.Database;
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            db.ExecuteAsync("BLPOP", [redis.UniqueKey("empty"), "1"], cancel.Token));
        string key = redis.UniqueKey("after-cancel");
        await db.StringSetAsync(key, "v");
        Assert.Equal("v", (string?)await db.StringGetAsync(key));
    }

    [Fact]
    public async Task Commands_are_traced_as_client_activities_when_someone_listens()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RedisConnection.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        string marker = redis.UniqueKey("traced");
        await redis.Database.ExecuteAsync("ECHO", marker);
        await Assert.ThrowsAsync<RedisServerException>(() => redis.Database.ExecuteAsync("EVALSHA", "0000000000000000000000000000000000000000", 0));

        Activity echo = Assert.Single(stopped, a => a.OperationName == "ECHO");
        Assert.Equal(ActivityKind.Client, echo.Kind);
        Assert.Equal("redis", echo.GetTagItem("db.system"));
        Assert.Equal("ECHO", echo.GetTagItem("db.operation"));
        Assert.Equal(redis.Server.Port, echo.GetTagItem("server.port"));
        Activity failed = Assert.Single(stopped, a => a.OperationName == "EVALSHA");
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
        Assert.Contains("NOSCRIPT", failed.StatusDescription);
    }

    [Fact]
    public async Task A_reply_that_breaks_the_protocol_fails_the_command_and_the_client_reconnects()
    {
        await using var server = new ScriptedRespServer((command, connectionIndex) => command[0] switch
        {
            "GET" when connectionIndex == 0 => "$3\r\nabcd\r\n"u8.ToArray(),
            "GET" => "$2\r\nok\r\n"u8.ToArray(),
            _ => ScriptedRespServer.Handshake(command),
        });
        await using RedisConnection connection = await RedisConnection.ConnectAsync(server.ConnectionString);

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => connection.GetDatabase().StringGetAsync("k"));
        Assert.IsType<RedisProtocolException>(error.InnerException);
        Assert.Contains("RESP protocol violation", error.Message);
        Assert.Contains("GET waited for its reply", error.Message);

        Assert.Equal("ok", (string?)await connection.GetDatabase().StringGetAsync("k"));
        Assert.Equal(1, connection.ReconnectCount);
    }

    [Fact]
    public async Task A_reply_nobody_asked_for_closes_the_connection_instead_of_going_to_the_next_command()
    {
        int gets = 0;
        await using var server = new ScriptedRespServer((command, connectionIndex) => command[0] switch
        {
            // The first GET gets its reply and an extra one that must never reach a later command.
            "GET" when Interlocked.Increment(ref gets) == 1 => "$5\r\nfirst\r\n$5\r\nextra\r\n"u8.ToArray(),
            "GET" => Encoding.ASCII.GetBytes($"$6\r\nconn-{connectionIndex}\r\n"),
            _ => ScriptedRespServer.Handshake(command),
        });
        await using RedisConnection connection = await RedisConnection.ConnectAsync(server.ConnectionString);
        IRedisDatabase db = connection.GetDatabase();

        Assert.Equal("first", (string?)await db.StringGetAsync("a"));
        await Eventually.TrueAsync(() => connection.ReconnectCount == 1, TimeSpan.FromSeconds(10), "the client to reconnect after the unasked reply");
        Assert.Contains("while no command was waiting", connection.LastError?.Message);
        Assert.Equal("conn-1", (string?)await db.StringGetAsync("b"));
    }

    [Fact]
    public async Task A_connection_dropped_with_a_command_in_flight_fails_that_command_with_RedisConnectionException()
    {
        await using var server = new ScriptedRespServer((command, connectionIndex) => command[0] switch
        {
            "INCRBY" when connectionIndex == 0 => null,
            "INCRBY" => ":1\r\n"u8.ToArray(),
            _ => ScriptedRespServer.Handshake(command),
        });
        await using RedisConnection connection = await RedisConnection.ConnectAsync(server.ConnectionString);
        var failures = new ConcurrentQueue<Exception?>();
        connection.ConnectionFailed += (_, e) => failures.Enqueue(e.Error);

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => connection.GetDatabase().StringIncrementAsync("counter"));
        Assert.Contains("closed the connection", error.Message);
        Assert.Contains("may or may not have run", error.Message);
        Assert.Equal(1, await connection.GetDatabase().StringIncrementAsync("counter"));
        Assert.Single(failures);
    }

    [Fact]
    public async Task A_server_that_does_not_speak_RESP_is_reported_as_such()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task serve = Task.Run(async () =>
        {
            using Socket socket = await listener.AcceptSocketAsync();
            await socket.SendAsync("HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray());
            await Task.Delay(500);
        });

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync($"127.0.0.1:{port},connectRetry=1"));
        Assert.Contains("does not speak RESP2", error.Message);
        await serve;
    }

    [Fact]
    public async Task Using_a_disposed_connection_throws_ObjectDisposedException()
    {
        RedisConnection connection = await RedisConnection.ConnectAsync(redis.Server.ConnectionString);
        IRedisDatabase db = connection.GetDatabase();
        await connection.DisposeAsync();
        Assert.False(connection.IsConnected);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => db.StringGetAsync("k"));
    }

    // Below the OS's ephemeral range, so no outgoing connection takes it before the server binds it.
    private static int FreePort() => LoopbackPorts.FreePort();
}
