using RabbitMQ.Client;

namespace FailureSynth.Messaging;

/// <summary>
/// Declares what the bus relies on in the broker. Declarations are idempotent, so every
/// publisher and consumer declares what it uses on start and after nothing else.
/// </summary>
internal static class EventBusTopology
{
    public static Task DeclareExchangeAsync(IChannel channel, EventBusOptions options, CancellationToken cancellationToken) =>
        channel.ExchangeDeclareAsync(options.ExchangeName, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: cancellationToken);

    /// <summary>
    /// The service's quorum queue, bound to each subscribed event type, and its dead-letter queue.
    /// The broker dead-letters a message itself once it was returned more than the delivery limit
    /// allows; the consumer also sends poison messages there directly, with the reason.
    /// </summary>
    public static async Task DeclareServiceQueuesAsync(IChannel channel, EventBusOptions options, IEnumerable<string> eventTypeNames, CancellationToken cancellationToken)
    {
        await DeclareExchangeAsync(channel, options, cancellationToken).ConfigureAwait(false);
        await channel.ExchangeDeclareAsync(options.DeadLetterExchangeName, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);

        await channel.QueueDeclareAsync(options.DeadLetterQueueName, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueBindAsync(options.DeadLetterQueueName, options.DeadLetterExchangeName, options.DeadLetterQueueName, cancellationToken: cancellationToken).ConfigureAwait(false);

        await channel.QueueDeclareAsync(options.QueueName, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-delivery-limit"] = options.DeliveryLimit,
                ["x-dead-letter-exchange"] = options.DeadLetterExchangeName,
                ["x-dead-letter-routing-key"] = options.DeadLetterQueueName,
            },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (string eventType in eventTypeNames)
            await channel.QueueBindAsync(options.QueueName, options.ExchangeName, eventType, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
