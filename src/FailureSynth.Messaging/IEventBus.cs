namespace FailureSynth.Messaging;

/// <summary>Publishes integration events to every service subscribed to their type.</summary>
public interface IEventBus
{
    /// <summary>
    /// Publishes the event and returns once the broker has confirmed it is stored. Throws
    /// <see cref="EventPublishException"/> when the broker refuses it or stays unreachable
    /// for longer than the publish timeout.
    /// </summary>
    Task PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent;

    /// <summary>
    /// Puts <paramref name="event"/> (typically the malformed part of a batch, whose good part goes on) in this
    /// service's dead-letter queue with <paramref name="reason"/> in its headers, as the consumer does with a whole
    /// message it refuses; returns once the broker has confirmed it. The event is not validated: it is the bad part.
    /// </summary>
    Task DeadLetterAsync<TEvent>(TEvent @event, string reason, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent;
}

/// <summary>Handles one event type in one service. Called at least once per event: must be idempotent.</summary>
public interface IIntegrationEventHandler<in TEvent> where TEvent : IntegrationEvent
{
    Task HandleAsync(TEvent @event, CancellationToken cancellationToken);
}

/// <summary>An event could not be published: the broker refused it, or could not be reached in time.</summary>
public sealed class EventPublishException(string message, Exception? innerException = null) : Exception(message, innerException);
