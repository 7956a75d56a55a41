using FailureSynth.Messaging;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the event bus on a service collection that already has the RabbitMQ connection (<c>IConnection</c>).</summary>
public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IEventBus"/> and, once subscriptions are added, the consumer of the
    /// service's queue <c>{exchange}.{serviceName}</c>. Needs an <c>IConnection</c> (Aspire's <c>builder.AddRabbitMQClient("messaging")</c>).
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
        services.TryAddSingleton<RabbitMqConnectionProvider>();
        services.TryAddSingleton<IProcessedEventStore, InMemoryProcessedEventStore>();
        services.TryAddSingleton<RabbitMqEventBus>();
        services.TryAddSingleton<IEventBus>(sp => sp.GetRequiredService<RabbitMqEventBus>());
        services.AddHostedService<EventBusConsumer>();
        return new EventBusBuilder(services, serviceName);
    }
}

/// <summary>Marks the service collection as holding the event bus of one service.</summary>
internal sealed record EventBusRegistration(string ServiceName);
