using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FailureSynth.Messaging;

/// <summary>Returned by <c>AddEventBus</c>: the service whose subscriptions are being added.</summary>
public interface IEventBusBuilder
{
    IServiceCollection Services { get; }

    string ServiceName { get; }
}

internal sealed record EventBusBuilder(IServiceCollection Services, string ServiceName) : IEventBusBuilder;

/// <summary>Subscribing handlers, one line per event type and handler.</summary>
public static class EventBusBuilderExtensions
{
    /// <summary>Binds the service's queue to <typeparamref name="TEvent"/> and runs <typeparamref name="THandler"/> (in a scope of its own) for each one.</summary>
    public static IEventBusBuilder AddSubscription<TEvent, THandler>(this IEventBusBuilder builder)
        where TEvent : IntegrationEvent
        where THandler : class, IIntegrationEventHandler<TEvent>
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddTransient<THandler>();
        builder.Services.Configure<EventBusSubscriptions>(subscriptions => subscriptions.Add<TEvent, THandler>());
        return builder;
    }
}
