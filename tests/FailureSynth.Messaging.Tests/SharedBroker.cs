using FailureSynth.Hosting.RabbitMQ;

namespace FailureSynth.Messaging.Tests;

/// <summary>One real rabbitmq-server for the whole test run (it takes ~10 s to boot); tests isolate themselves by exchange name.</summary>
public sealed class SharedBroker : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"fs-messaging-tests-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public RabbitMqServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Server = await RabbitMqServerProcess.StartAsync(new RabbitMqServerOptions(_dataDirectory));

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}

/// <summary>The tests that share <see cref="SharedBroker"/>; they run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class SharedBrokerCollection : ICollectionFixture<SharedBroker>
{
    public const string Name = "shared rabbitmq-server";
}
