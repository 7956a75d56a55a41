using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace FailureSynth.Messaging.Tests;

/// <summary>Mistakes a user can make, and the ids the bus derives; none of these needs a broker.</summary>
public sealed class ConfigurationTests
{
    [Fact]
    public void Event_ids_are_deterministic_hex_and_separate_their_parts()
    {
        string id = EventIds.Derive("campaign-1", "failure-17", "3");
        Assert.Equal(id, EventIds.Derive("campaign-1", "failure-17", "3"));
        Assert.Equal(EventIds.Length, id.Length);
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.NotEqual(EventIds.Derive("ab", "c"), EventIds.Derive("a", "bc"));
        Assert.NotEqual(id, EventIds.Derive("campaign-1", "failure-17", "4"));
        // Pinned (cross-checked with Python: sha256 over int32-LE length + UTF-8 of each part): ids must not change across machines, runtimes or refactorings.
        Assert.Equal("2b6b190038ba0f8128b7177c436290c2", EventIds.Derive("campaign-1", "failure-17", "3"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_missing_connection_string_is_named_in_the_error(string? connectionString)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:messaging"] = connectionString });

        var error = Assert.Throws<MessagingConfigurationException>(() => builder.AddEventBus("teacher"));

        Assert.StartsWith("ConnectionStrings:messaging is not set", error.Message);
        Assert.Contains("amqp://user:pass@host:port", error.Message);
    }

    [Fact]
    public void An_event_bus_without_a_rabbitmq_connection_says_which_call_is_missing()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddEventBus("renderer");
        using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<MessagingConfigurationException>(() => provider.GetRequiredService<IEventBus>());
        Assert.Contains("AddRabbitMQClient(\"messaging\")", error.Message);
        Assert.Contains("'renderer'", error.Message);
    }

    [Fact]
    public void An_unusable_service_name_is_rejected_with_the_setting_named()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<RabbitMQ.Client.IConnection>(_ => throw new InvalidOperationException("these checks come before any connection"));
        services.AddEventBus("image synth");
        using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<MessagingConfigurationException>(() => provider.GetRequiredService<IEventBus>());
        Assert.StartsWith("EventBus:ServiceName 'image synth' is not usable", error.Message);
    }

    [Fact]
    public async Task The_publisher_refuses_an_event_without_id_or_failing_its_own_validation()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<RabbitMQ.Client.IConnection>(_ => throw new InvalidOperationException("these checks come before any connection"));
        services.AddEventBus("filter");
        await using ServiceProvider provider = services.BuildServiceProvider();
        IEventBus bus = provider.GetRequiredService<IEventBus>();

        var noId = await Assert.ThrowsAsync<ArgumentException>(() => bus.PublishAsync(new SampleAccepted("s1", 0.5) { Id = "", CampaignId = "c" }));
        Assert.Contains("Id is empty", noId.Message);
        var invalid = await Assert.ThrowsAsync<ArgumentException>(() => bus.PublishAsync(new SampleAccepted("s1", 1.5) { Id = "a1", CampaignId = "c" }));
        Assert.Contains("Score 1.5 is outside [0, 1]", invalid.Message);
    }

    [Fact]
    public void Bus_settings_come_from_the_EventBus_section_and_the_service_name_from_code()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = "amqp://u:p@127.0.0.1:1",
            ["EventBus:ExchangeName"] = "campaign-42",
            ["EventBus:DeliveryLimit"] = "7",
            ["EventBus:PrefetchCount"] = "4",
            ["EventBus:PublishTimeout"] = "00:00:05",
            ["EventBus:ServiceName"] = "ignored",
        });

        builder.AddEventBus("teacher");

        using IHost host = builder.Build();
        EventBusOptions options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<EventBusOptions>>().Value;
        Assert.Equal(("campaign-42", "teacher", 7, (ushort)4, TimeSpan.FromSeconds(5)),
            (options.ExchangeName, options.ServiceName, options.DeliveryLimit, options.PrefetchCount, options.PublishTimeout));
        Assert.Equal("campaign-42.teacher", options.QueueName);
        Assert.Equal("campaign-42.teacher.dead", options.DeadLetterQueueName);
    }

    [Fact]
    public void A_process_hosts_the_event_bus_of_one_service_only()
    {
        var services = new ServiceCollection();
        services.AddEventBus("teacher");
        services.AddEventBus("teacher");

        var error = Assert.Throws<MessagingConfigurationException>(() => services.AddEventBus("renderer"));
        Assert.Contains("AddEventBus(\"renderer\") was called after AddEventBus(\"teacher\")", error.Message);
    }

    [Fact]
    public void Two_event_types_with_the_same_name_cannot_both_be_subscribed()
    {
        var services = new ServiceCollection();
        services.AddEventBus("teacher")
            .AddSubscription<FirstVersion.SkillRetired, RecordingHandler<FirstVersion.SkillRetired>>()
            .AddSubscription<SecondVersion.SkillRetired, RecordingHandler<SecondVersion.SkillRetired>>();
        using ServiceProvider provider = services.BuildServiceProvider();

        var error = Assert.Throws<MessagingConfigurationException>(() =>
            provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<EventBusSubscriptions>>().Value);
        Assert.Contains("share the name 'SkillRetired', which is their routing key", error.Message);
    }

    [Fact]
    public async Task The_in_memory_store_marks_once_per_handler_and_forgets_the_oldest_beyond_its_capacity()
    {
        var store = new InMemoryProcessedEventStore(capacity: 2);

        Assert.True(await store.TryMarkProcessedAsync("teacher/A", "e1"));
        Assert.False(await store.TryMarkProcessedAsync("teacher/A", "e1"));
        Assert.True(await store.TryMarkProcessedAsync("teacher/B", "e1"));
        Assert.True(await store.IsProcessedAsync("teacher/A", "e1"));
        Assert.True(await store.TryMarkProcessedAsync("teacher/A", "e2"));

        Assert.False(await store.IsProcessedAsync("teacher/A", "e1"));
        Assert.True(await store.IsProcessedAsync("teacher/B", "e1"));
        Assert.True(await store.IsProcessedAsync("teacher/A", "e2"));
        Assert.Equal(2, store.Count);
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>Two versions of an event that differ only by namespace-like nesting: their routing keys collide.</summary>
public static class FirstVersion
{
    /// <summary>The first shape of a retired-skill event.</summary>
    public sealed record SkillRetired(string Skill) : IntegrationEvent;
}

/// <summary>The second version, same type name.</summary>
public static class SecondVersion
{
    /// <summary>The second shape of a retired-skill event.</summary>
    public sealed record SkillRetired(string Skill, string Reason) : IntegrationEvent;
}
