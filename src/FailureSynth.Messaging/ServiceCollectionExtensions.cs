using FailureSynth.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the RabbitMQ connection and the event bus on a service collection.</summary>
public static class MessagingServiceCollectionExtensions
{
    /// <summary>Health check tag of checks that must pass before a service takes traffic.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Registers the process's RabbitMQ connection (<see cref="RabbitMqConnectionProvider"/>, and
    /// <c>IConnection</c> as Aspire does), read from <c>ConnectionStrings:{connectionName}</c> when
    /// first used, and a health check named after the connection, tagged "ready".
    /// </summary>
    public static IServiceCollection AddRabbitMQClient(this IServiceCollection services, string connectionName = "messaging", Action<RabbitMqClientSettings>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);
        var settings = new RabbitMqClientSettings { ConnectionName = connectionName };
        configure?.Invoke(settings);
        return services.AddRabbitMQClient(settings);
    }

    internal static IServiceCollection AddRabbitMQClient(this IServiceCollection services, RabbitMqClientSettings settings)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(RabbitMqClientSettings))?.ImplementationInstance is RabbitMqClientSettings existing)
        {
            if (existing.ConnectionName == settings.ConnectionName) return services;
            throw new MessagingConfigurationException(
                $"AddRabbitMQClient(\"{settings.ConnectionName}\") was called after AddRabbitMQClient(\"{existing.ConnectionName}\"); a FailureSynth service uses one broker connection.");
        }
        services.AddSingleton(settings);
        services.AddSingleton(sp => new RabbitMqConnectionProvider(
            settings,
            sp.GetService<IConfiguration>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger<RabbitMqConnectionProvider>() ?? NullLogger<RabbitMqConnectionProvider>.Instance));
        // Aspire's client registers IConnection itself; code written against it keeps working.
        services.AddSingleton(sp => sp.GetRequiredService<RabbitMqConnectionProvider>().GetConnectionAsync(CancellationToken.None).GetAwaiter().GetResult());
        services.AddHealthChecks().AddCheck<RabbitMqHealthCheck>(settings.ConnectionName, HealthStatus.Unhealthy, [ReadyTag], TimeSpan.FromSeconds(5));
        return services;
    }

    /// <summary>
    /// Registers <see cref="IEventBus"/> and, once subscriptions are added, the consumer of the
    /// service's queue <c>{exchange}.{serviceName}</c>. Needs <see cref="AddRabbitMQClient(IServiceCollection, string, Action{RabbitMqClientSettings}?)"/>.
    /// </summary>
    public static IEventBusBuilder AddEventBus(this IServiceCollection services, string serviceName, Action<EventBusOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        if (services.FirstOrDefault(d => d.ServiceType == typeof(EventBusRegistration))?.ImplementationInstance is EventBusRegistration existing)
        {
            if (existing.ServiceName == serviceName) return new EventBusBuilder(services, serviceName);
            throw new MessagingConfigurationException(
                $"AddEventBus(\"{serviceName}\") was called after AddEventBus(\"{existing.ServiceName}\"); a process is one service with one queue, so call it once.");
        }
        services.AddSingleton(new EventBusRegistration(serviceName));
        services.AddOptions<EventBusOptions>().Configure(options =>
        {
            options.ServiceName = serviceName;
            configure?.Invoke(options);
        });
        services.AddOptions<EventBusSubscriptions>();
        services.TryAddSingleton<IProcessedEventStore, InMemoryProcessedEventStore>();
        services.TryAddSingleton<RabbitMqEventBus>();
        services.TryAddSingleton<IEventBus>(sp => sp.GetRequiredService<RabbitMqEventBus>());
        services.AddHostedService<EventBusConsumer>();
        return new EventBusBuilder(services, serviceName);
    }
}

/// <summary>Marks the service collection as holding the event bus of one service.</summary>
internal sealed record EventBusRegistration(string ServiceName);
