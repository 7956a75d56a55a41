namespace FailureSynth.Messaging;

/// <summary>
/// Which event types a service consumes and which handlers run for each; the routing key of an
/// event is its type's name. Filled by <c>AddSubscription&lt;TEvent, THandler&gt;()</c>.
/// </summary>
public sealed class EventBusSubscriptions
{
    private readonly List<EventSubscription> _subscriptions = [];

    /// <summary>Subscribed event type names, in registration order.</summary>
    public IReadOnlyList<string> EventTypeNames => [.. _subscriptions.Select(s => s.EventTypeName)];

    internal IReadOnlyList<EventSubscription> All => _subscriptions;

    internal EventSubscription? Find(string eventTypeName) =>
        _subscriptions.FirstOrDefault(s => s.EventTypeName == eventTypeName);

    internal void Add<TEvent, THandler>()
        where TEvent : IntegrationEvent
        where THandler : class, IIntegrationEventHandler<TEvent>
    {
        string name = EventTypeName(typeof(TEvent));
        EventSubscription? subscription = Find(name);
        if (subscription is null)
        {
            subscription = new EventSubscription(name, typeof(TEvent), []);
            _subscriptions.Add(subscription);
        }
        else if (subscription.EventType != typeof(TEvent))
        {
            throw new MessagingConfigurationException(
                $"Event types {subscription.EventType.FullName} and {typeof(TEvent).FullName} share the name '{name}', which is their routing key; rename one of them.");
        }
        if (subscription.Handlers.Any(h => h.HandlerType == typeof(THandler))) return;
        subscription.Handlers.Add(new HandlerBinding(
            typeof(THandler),
            (services, @event, cancellationToken) =>
                services.GetService(typeof(THandler)) is THandler handler
                    ? handler.HandleAsync((TEvent)@event, cancellationToken)
                    : throw new InvalidOperationException($"Handler {typeof(THandler).FullName} is not registered; subscribe it with AddSubscription<{typeof(TEvent).Name}, {typeof(THandler).Name}>().")));
    }

    /// <summary>The routing key and <c>event-type</c> header of an event type.</summary>
    public static string EventTypeName(Type eventType) => eventType.Name;
}

internal sealed record EventSubscription(string EventTypeName, Type EventType, List<HandlerBinding> Handlers);

internal sealed record HandlerBinding(Type HandlerType, Func<IServiceProvider, IntegrationEvent, CancellationToken, Task> InvokeAsync);
