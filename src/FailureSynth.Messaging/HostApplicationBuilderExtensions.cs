using FailureSynth.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The messaging registrations in the shape Aspire gives them (<c>builder.AddRabbitMQClient("messaging")</c>),
/// so a real Aspire AppHost can host FailureSynth services unchanged.
/// </summary>
public static class MessagingHostApplicationBuilderExtensions
{
    /// <summary>
    /// Registers the RabbitMQ connection from <c>ConnectionStrings:{connectionName}</c>, failing
    /// at once, with the key's name, when it is missing or malformed.
    /// </summary>
    public static void AddRabbitMQClient(this IHostApplicationBuilder builder, string connectionName = "messaging", Action<RabbitMqClientSettings>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);
        var settings = new RabbitMqClientSettings
        {
            ConnectionName = connectionName,
            ClientProvidedName = builder.Environment.ApplicationName,
        };
        configure?.Invoke(settings);
        settings.ConnectionString ??= builder.Configuration.GetConnectionString(settings.ConnectionName);
        AmqpConnectionString.Parse(settings.ConnectionName, settings.ConnectionString);
        builder.Services.AddRabbitMQClient(settings);
    }

    /// <summary>
    /// The service's event bus: settings from the <c>EventBus</c> configuration section, then
    /// <paramref name="configure"/>; adds the RabbitMQ connection when not added yet.
    /// </summary>
    public static IEventBusBuilder AddEventBus(this IHostApplicationBuilder builder, string serviceName, Action<EventBusOptions>? configure = null, string connectionName = "messaging")
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Services.Any(d => d.ServiceType == typeof(RabbitMqConnectionProvider)))
            builder.AddRabbitMQClient(connectionName);
        builder.Services.AddOptions<EventBusOptions>().Bind(builder.Configuration.GetSection("EventBus"));
        return builder.Services.AddEventBus(serviceName, configure);
    }
}
