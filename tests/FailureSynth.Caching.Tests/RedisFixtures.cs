using FailureSynth.Hosting.Redis;
using FailureSynth.Redis;

namespace FailureSynth.Caching.Tests;

/// <summary>A real redis-server in a temporary data folder; stopping or disposing it leaves no process behind.</summary>
public sealed class TemporaryRedisServer : IAsyncDisposable
{
    private readonly DirectoryInfo _dataDirectory;

    private TemporaryRedisServer(DirectoryInfo dataDirectory, RedisServerProcess process)
    {
        _dataDirectory = dataDirectory;
        Process = process;
    }

    public RedisServerProcess Process { get; }

    public static async Task<TemporaryRedisServer> StartAsync()
    {
        DirectoryInfo directory = Directory.CreateTempSubdirectory("failuresynth-caching-redis-");
        try
        {
            return new TemporaryRedisServer(directory, await RedisServerProcess.StartAsync(new RedisServerOptions(directory.FullName)));
        }
        catch
        {
            directory.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>A new connection of its own (a replica has one), with extra connection-string options such as <c>,syncTimeout=300</c>.</summary>
    public Task<RedisConnection> ConnectAsync(string options = "") => RedisConnection.ConnectAsync(Process.ConnectionString + options);

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        _dataDirectory.Delete(recursive: true);
    }
}

/// <summary>One redis-server and one connection shared by the tests of <see cref="SharedRedis"/>, which run one at a time.</summary>
public sealed class SharedRedisFixture : IAsyncLifetime
{
    private TemporaryRedisServer? _server;
    private RedisConnection? _connection;
    private int _counter;

    public TemporaryRedisServer Server => _server ?? throw new InvalidOperationException("The fixture has not started its server.");

    public IRedisDatabase Database => (_connection ?? throw new InvalidOperationException("The fixture has not connected.")).GetDatabase();

    /// <summary>A name (campaign id, prefix) no other test uses, so that tests sharing the server stay independent.</summary>
    public string UniqueName(string name) => $"{name}-{Interlocked.Increment(ref _counter)}";

    public async Task InitializeAsync()
    {
        _server = await TemporaryRedisServer.StartAsync();
        _connection = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
        if (_server is not null) await _server.DisposeAsync();
    }
}

/// <summary>The tests that share the one server of <see cref="SharedRedisFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class SharedRedis : ICollectionFixture<SharedRedisFixture>
{
    public const string Name = "shared redis-server for caching";
}
