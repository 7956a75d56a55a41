using FailureSynth.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Microsoft.Extensions.Hosting;

/// <summary>The event bus of a service, on the RabbitMQ connection of Aspire's client integration.</summary>
public static class MessagingHostApplicationBuilderExtensions
{
    /// <summary>
    /// The service's event bus: settings from the <c>EventBus</c> configuration section, then
    /// <paramref name="configure"/>; adds Aspire's RabbitMQ client (<c>ConnectionStrings:{connectionName}</c>, with
    /// its health check and tracing) when the service has not added it yet.
    /// </summary>
    public static IEventBusBuilder AddEventBus(this IHostApplicationBuilder builder, string serviceName, Action<EventBusOptions>? configure = null, string connectionName = "messaging")
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Services.Any(d => d.ServiceType == typeof(IConnection)))
        {
            if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(connectionName)))
                throw new MessagingConfigurationException(
                    $"ConnectionStrings:{connectionName} is not set. Set it to amqp://user:pass@host:port (environment variable ConnectionStrings__{connectionName}); the AppHost sets it for services that reference the broker.");
            builder.AddRabbitMQClient(connectionName, configureConnectionFactory: factory =>
            {
                // The bus's contract relies on both: a broker restart must not lose the service's consumers.
                factory.AutomaticRecoveryEnabled = true;
                factory.TopologyRecoveryEnabled = true;
                factory.NetworkRecoveryInterval = TimeSpan.FromSeconds(2);
                factory.ClientProvidedName = builder.Environment.ApplicationName;
            });
        }
        builder.Services.AddOptions<EventBusOptions>().Bind(builder.Configuration.GetSection("EventBus"));
        return builder.Services.AddEventBus(serviceName, configure);
    }
}
