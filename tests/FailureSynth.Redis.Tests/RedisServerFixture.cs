using FailureSynth.Hosting.Redis;
using FailureSynth.Redis;

namespace FailureSynth.Redis.Tests;

/// <summary>
/// One real redis-server for the whole test run, on a free port with a random password, and one
/// connection to it. Tests that stop, kill or restart a server start their own with <see cref="OwnedRedisServer"/>.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private OwnedRedisServer? _server;
    private RedisConnection? _connection;
    private int _keyCounter;

    public RedisServerProcess Server => _server?.Process ?? throw new InvalidOperationException("The fixture has not started its server.");

    public RedisConnection Connection => _connection ?? throw new InvalidOperationException("The fixture has not connected.");

    public IRedisDatabase Database => Connection.GetDatabase();

    /// <summary>A key no other test uses, so that tests sharing the server stay independent.</summary>
    public string UniqueKey(string name) => $"test:{name}:{Interlocked.Increment(ref _keyCounter)}";

    public async Task InitializeAsync()
    {
        _server = await OwnedRedisServer.StartAsync();
        _connection = await RedisConnection.ConnectAsync(_server.Process.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
        if (_server is not null) await _server.DisposeAsync();
    }
}

/// <summary>The tests that share the one server of <see cref="RedisServerFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class SharedRedisServer : ICollectionFixture<RedisServerFixture>
{
    public const string Name = "shared redis-server";
}

/// <summary>A redis-server of a test's own, in a temporary data folder that goes away with it.</summary>
public sealed class OwnedRedisServer : IAsyncDisposable
{
    private readonly DirectoryInfo _dataDirectory;

    private OwnedRedisServer(DirectoryInfo dataDirectory, RedisServerProcess process)
    {
        _dataDirectory = dataDirectory;
        Process = process;
    }

    public RedisServerProcess Process { get; }

    public static async Task<OwnedRedisServer> StartAsync(int? port = null, string? password = null)
    {
        DirectoryInfo directory = Directory.CreateTempSubdirectory("failuresynth-redis-");
        try
        {
            RedisServerProcess process = await RedisServerProcess.StartAsync(new RedisServerOptions(directory.FullName, port, password));
            return new OwnedRedisServer(directory, process);
        }
        catch
        {
            directory.Delete(recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        _dataDirectory.Delete(recursive: true);
    }
}

/// <summary>Small waiting helpers for conditions that become true in the background.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (System.Diagnostics.Stopwatch.GetElapsedTime(start) > timeout)
                Assert.Fail($"Waited {timeout.TotalSeconds:0.#} s for {what}.");
            await Task.Delay(20);
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (!await condition())
        {
            if (System.Diagnostics.Stopwatch.GetElapsedTime(start) > timeout)
                Assert.Fail($"Waited {timeout.TotalSeconds:0.#} s for {what}.");
            await Task.Delay(20);
        }
    }
}
