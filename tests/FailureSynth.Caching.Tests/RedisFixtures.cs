using FailureSynth.Tests.Aspire;
using StackExchange.Redis;

namespace FailureSynth.Caching.Tests;

/// <summary>The AppHost's cache resource (redis-server run by DCP) and one connection shared by the tests of <see cref="SharedRedis"/>, which run one at a time.</summary>
public sealed class SharedRedisFixture : IAsyncLifetime
{
    private ConnectionMultiplexer? _connection;
    private int _counter;

    public AppHostInfrastructure Infrastructure { get; } = new();

    public IDatabase Database => (_connection ?? throw new InvalidOperationException("The fixture has not connected.")).GetDatabase();

    /// <summary>A new connection of its own (a replica has one), with extra options such as <c>,syncTimeout=300</c>.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync(string options = "") => ConnectionMultiplexer.ConnectAsync(Infrastructure.CacheConnectionString + options);

    /// <summary>A name (campaign id, prefix) no other test uses, so that tests sharing the server stay independent.</summary>
    public string UniqueName(string name) => $"{name}-{Interlocked.Increment(ref _counter)}";

    public async Task InitializeAsync()
    {
        await Infrastructure.InitializeAsync();
        _connection = await ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
        await Infrastructure.DisposeAsync();
    }
}

/// <summary>The tests that share the one server of <see cref="SharedRedisFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class SharedRedis : ICollectionFixture<SharedRedisFixture>
{
    public const string Name = "shared redis-server for caching";
}
