using System.Text.RegularExpressions;

namespace FailureSynth.Messaging;

/// <summary>
/// Settings of one service's event bus (bound from the <c>EventBus</c> configuration section,
/// then from code). Queue names follow from the exchange and service names.
/// </summary>
public sealed partial class EventBusOptions
{
    /// <summary>The durable topic exchange every event is published to.</summary>
    public string ExchangeName { get; set; } = "failuresynth";

    /// <summary>Names the service's queue; replicas of a service share it as competing consumers.</summary>
    public string ServiceName { get; set; } = "";

    /// <summary>Handler attempts per event before it is dead-lettered (the quorum queue's <c>x-delivery-limit</c>).</summary>
    public int DeliveryLimit { get; set; } = 5;

    /// <summary>Unacknowledged messages the broker may push to one consumer (BasicQos).</summary>
    public ushort PrefetchCount { get; set; } = 16;

    /// <summary>
    /// Messages one replica handles at the same time (RabbitMQ's consumer dispatch concurrency). 1 keeps a
    /// replica's handlers strictly one after another; more overlaps their waits on the broker and Redis, for
    /// handlers that are safe to run concurrently.
    /// </summary>
    public int ConcurrentHandlers { get; set; } = 1;

    /// <summary>How long a publish may keep retrying through a broker outage before it fails.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Channels publishing in parallel (each awaits its own confirms).</summary>
    public int PublisherChannels { get; set; } = 4;

    public string QueueName => $"{ExchangeName}.{ServiceName}";
    public string DeadLetterQueueName => $"{QueueName}.dead";
    public string DeadLetterExchangeName => $"{ExchangeName}.dead-letter";

    /// <summary>Throws with the setting's name and what to change when a value cannot work.</summary>
    public void Validate()
    {
        if (!NameText().IsMatch(ExchangeName ?? ""))
            throw new MessagingConfigurationException($"EventBus:ExchangeName '{ExchangeName}' is not usable; use letters, digits, '-', '_' or '.' (default 'failuresynth').");
        if (!NameText().IsMatch(ServiceName ?? ""))
            throw new MessagingConfigurationException($"EventBus:ServiceName '{ServiceName}' is not usable; pass the service's name (letters, digits, '-', '_' or '.') to AddEventBus.");
        if (DeliveryLimit < 1)
            throw new MessagingConfigurationException($"EventBus:DeliveryLimit {DeliveryLimit} must be at least 1 (default 5).");
        if (PrefetchCount < 1)
            throw new MessagingConfigurationException($"EventBus:PrefetchCount {PrefetchCount} must be at least 1 (default 16).");
        if (ConcurrentHandlers < 1 || ConcurrentHandlers > PrefetchCount)
            throw new MessagingConfigurationException($"EventBus:ConcurrentHandlers {ConcurrentHandlers} must be from 1 to EventBus:PrefetchCount ({PrefetchCount}) (default 1).");
        if (PublishTimeout <= TimeSpan.Zero)
            throw new MessagingConfigurationException($"EventBus:PublishTimeout {PublishTimeout} must be positive (default 00:00:30).");
        if (PublisherChannels < 1)
            throw new MessagingConfigurationException($"EventBus:PublisherChannels {PublisherChannels} must be at least 1 (default 4).");
    }

    [GeneratedRegex(@"^[A-Za-z0-9\-_.]{1,100}$")]
    private static partial Regex NameText();
}
