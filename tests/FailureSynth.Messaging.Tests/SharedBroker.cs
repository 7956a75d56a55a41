using FailureSynth.Tests.Aspire;

namespace FailureSynth.Messaging.Tests;

/// <summary>One broker (the AppHost's messaging resource) for the whole test run; tests isolate themselves by exchange name.</summary>
public sealed class SharedBroker : IAsyncLifetime
{
    public AppHostInfrastructure Infrastructure { get; } = new();

    public string ConnectionString => Infrastructure.MessagingConnectionString;

    public Uri Address => new(ConnectionString);

    public Task InitializeAsync() => Infrastructure.InitializeAsync();

    public Task DisposeAsync() => Infrastructure.DisposeAsync();
}

/// <summary>The tests that share <see cref="SharedBroker"/>; they run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class SharedBrokerCollection : ICollectionFixture<SharedBroker>
{
    public const string Name = "shared rabbitmq-server";
}
