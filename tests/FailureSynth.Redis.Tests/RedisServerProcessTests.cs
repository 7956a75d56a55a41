using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FailureSynth.Hosting.Redis;
using FailureSynth.Hosting.Network;

namespace FailureSynth.Redis.Tests;

public sealed class RedisServerProcessTests
{
    [Fact]
    public async Task A_started_server_runs_on_its_port_with_its_password_and_its_config_file()
    {
        await using OwnedRedisServer owned = await OwnedRedisServer.StartAsync();
        RedisServerProcess server = owned.Process;

        Assert.False(server.HasExited);
        Assert.Matches("^[0-9a-f]{48}$", server.Password);
        Assert.Equal($"127.0.0.1:{server.Port},password={server.Password}", server.ConnectionString);
        // Chosen below the OS's ephemeral range, where no outgoing connection can take it before the server binds it.
        Assert.InRange(server.Port, 10000, LoopbackPorts.EphemeralRangeStart() - 1);
        string config = await File.ReadAllTextAsync(server.ConfigurationFile);
        Assert.Contains("bind 127.0.0.1\n", config);
        Assert.Contains($"port {server.Port}\n", config);
        Assert.Contains("save \"\"\n", config);
        Assert.Contains("appendonly no\n", config);
        Assert.Contains("daemonize no\n", config);
        Assert.Contains(server.RecentOutput, line => line.Contains("Ready to accept connections"));

        await using RedisConnection connection = await RedisConnection.ConnectAsync(server.ConnectionString);
        string info = (await connection.GetDatabase().ExecuteAsync("INFO", "server")).AsString()!;
        Assert.Contains($"process_id:{server.ProcessId}\r\n", info);
        Assert.Contains($"tcp_port:{server.Port}\r\n", info);
    }

    [Fact]
    public async Task A_given_port_and_password_are_used()
    {
        int port = FreePort();
        await using OwnedRedisServer owned = await OwnedRedisServer.StartAsync(port, "chosen \"password\" with spaces");
        Assert.Equal(port, owned.Process.Port);
        await using RedisConnection connection = await RedisConnection.ConnectAsync($"127.0.0.1:{port},password=chosen \"password\" with spaces");
        Assert.True(connection.IsConnected);
    }

    [Fact]
    public async Task Restart_keeps_port_and_password_but_starts_a_new_process_and_reports_its_output()
    {
        await using OwnedRedisServer owned = await OwnedRedisServer.StartAsync();
        RedisServerProcess server = owned.Process;
        int port = server.Port, firstProcess = server.ProcessId;
        var lines = new ConcurrentQueue<string>();
        server.OutputLine += lines.Enqueue;

        await server.RestartAsync();

        Assert.Equal(port, server.Port);
        Assert.NotEqual(firstProcess, server.ProcessId);
        Assert.False(Directory.Exists($"/proc/{firstProcess}"));
        Assert.Contains(lines, line => line.Contains("Ready to accept connections"));
        await using RedisConnection connection = await RedisConnection.ConnectAsync(server.ConnectionString);
        await connection.GetDatabase().PingAsync();
    }

    [Fact]
    public async Task Kill_ends_the_process_at_once_and_stop_and_dispose_leave_no_process_behind()
    {
        DirectoryInfo directory = Directory.CreateTempSubdirectory("failuresynth-redis-");
        try
        {
            RedisServerProcess server = await RedisServerProcess.StartAsync(new RedisServerOptions(directory.FullName));
            int killed = server.ProcessId;
            server.Kill();
            Assert.True(server.HasExited);
            Assert.False(Directory.Exists($"/proc/{killed}"));

            await server.RestartAsync();
            int running = server.ProcessId;
            Assert.True(Directory.Exists($"/proc/{running}"));
            await server.DisposeAsync();
            Assert.True(server.HasExited);
            Assert.False(Directory.Exists($"/proc/{running}"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_executable_says_to_run_the_prerequisite_installer()
    {
        var onPath = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            RedisServerProcess.StartAsync(new RedisServerOptions(Path.GetTempPath(), Executable: "redis-server-that-is-not-installed")));
        Assert.Contains("'redis-server-that-is-not-installed' was not found on PATH", onPath.Message);
        Assert.Contains("eng/install-prereqs.sh", onPath.Message);

        var byPath = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            RedisServerProcess.StartAsync(new RedisServerOptions(Path.GetTempPath(), Executable: "/nowhere/redis-server")));
        Assert.Contains("eng/install-prereqs.sh", byPath.Message);
    }

    [Fact]
    public async Task A_server_that_cannot_start_is_reported_with_its_own_last_words()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        int port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => OwnedRedisServer.StartAsync(port));
        Assert.Contains($"redis-server (port {port}) exited with code", error.Message);
        Assert.Contains("Address already in use", error.Message);
    }

    [Theory]
    [InlineData(0, null, "Port 0 is not a TCP port")]
    [InlineData(null, "a,b", "Password is empty or contains a comma")]
    [InlineData(null, "", "Password is empty")]
    public async Task Unusable_options_are_rejected_naming_the_option(int? port, string? password, string expected)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            RedisServerProcess.StartAsync(new RedisServerOptions(Path.GetTempPath(), port, password)));
        Assert.Contains(expected, error.Message);
    }

    // Below the OS's ephemeral range, so no outgoing connection takes it before the server binds it.
    private static int FreePort() => LoopbackPorts.FreePort();
}
