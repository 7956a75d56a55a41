using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace FailureSynth.Messaging;

/// <summary>
/// <see cref="IEventBus"/> over RabbitMQ: persistent JSON messages on one durable topic exchange,
/// routed by event type name, each publish awaiting the broker's confirm and retrying through
/// connection outages until <see cref="EventBusOptions.PublishTimeout"/>.
/// </summary>
public sealed class RabbitMqEventBus : IEventBus, IAsyncDisposable
{
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(2);

    private readonly EventBusOptions _options;
    private readonly RabbitMqConnectionProvider _connections;
    private readonly PublisherChannels _channels;
    private readonly ILogger<RabbitMqEventBus> _logger;
    private volatile bool _exchangeDeclared;

    public RabbitMqEventBus(IServiceProvider services, IOptions<EventBusOptions> options, ILogger<RabbitMqEventBus> logger)
    {
        _options = options.Value;
        _options.Validate();
        _connections = RequireConnectionProvider(services, _options.ServiceName);
        _channels = new PublisherChannels(_connections, _options.PublisherChannels);
        _logger = logger;
    }

    public async Task PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent
    {
        ArgumentNullException.ThrowIfNull(@event);
        Type eventType = @event.GetType();
        string eventTypeName = EventBusSubscriptions.EventTypeName(eventType);
        IReadOnlyList<string> problems = EventProblems(@event);
        if (problems.Count > 0)
            throw new ArgumentException($"{eventTypeName} '{@event.Id}' is not valid and was not published: {string.Join("; ", problems)}.", nameof(@event));

        using Activity? activity = EventBusDiagnostics.Source.StartActivity($"{eventTypeName} publish", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation.type", "send");
        activity?.SetTag("messaging.destination.name", _options.ExchangeName);
        activity?.SetTag("messaging.rabbitmq.destination.routing_key", eventTypeName);
        activity?.SetTag("messaging.message.id", @event.Id);

        var headers = new Dictionary<string, object?>
        {
            [MessageHeaders.EventType] = eventTypeName,
            [MessageHeaders.SchemaVersion] = @event.SchemaVersion,
            [MessageHeaders.CampaignId] = @event.CampaignId,
        };
        // The publisher's span when someone listens, else whatever span the caller is in.
        if ((activity ?? Activity.Current) is { IdFormat: ActivityIdFormat.W3C } traced)
        {
            headers[MessageHeaders.TraceParent] = traced.Id;
            if (!string.IsNullOrEmpty(traced.TraceStateString)) headers[MessageHeaders.TraceState] = traced.TraceStateString;
        }
        var properties = new BasicProperties
        {
            MessageId = @event.Id,
            Type = eventTypeName,
            ContentType = "application/json",
            DeliveryMode = DeliveryModes.Persistent,
            Headers = headers,
        };
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(@event, eventType, EventJson.Options);
        try
        {
            await PublishConfirmedAsync(_options.ExchangeName, eventTypeName, properties, body, $"{eventTypeName} '{@event.Id}'", cancellationToken).ConfigureAwait(false);
        }
        catch (EventPublishException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    public async Task DeadLetterAsync<TEvent>(TEvent @event, string reason, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent
    {
        ArgumentNullException.ThrowIfNull(@event);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        Type eventType = @event.GetType();
        string eventTypeName = EventBusSubscriptions.EventTypeName(eventType);
        var properties = new BasicProperties
        {
            MessageId = @event.Id,
            Type = eventTypeName,
            ContentType = "application/json",
            DeliveryMode = DeliveryModes.Persistent,
            Headers = new Dictionary<string, object?>
            {
                [MessageHeaders.EventType] = eventTypeName,
                [MessageHeaders.SchemaVersion] = @event.SchemaVersion,
                [MessageHeaders.CampaignId] = @event.CampaignId,
                [MessageHeaders.FailureReason] = reason,
                [MessageHeaders.FailedService] = _options.ServiceName,
                [MessageHeaders.OriginalRoutingKey] = eventTypeName,
            },
        };
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(@event, eventType, EventJson.Options);
        await PublishConfirmedAsync(_options.DeadLetterExchangeName, _options.DeadLetterQueueName, properties, body,
            $"dead letter of part of {eventTypeName} '{@event.Id}'", cancellationToken).ConfigureAwait(false);
        EventBusDiagnostics.DeadLettered(_options.ServiceName, eventTypeName, reason);
        _logger.LogWarning("Dead-lettered part of {EventType} '{EventId}' to {DeadLetterQueue}: {Reason}", eventTypeName, @event.Id, _options.DeadLetterQueueName, reason);
    }

    /// <summary>
    /// Publishes and awaits the broker's confirm, retrying on connection failures with
    /// exponential backoff; a negative confirm fails at once, an outage after the publish timeout.
    /// </summary>
    internal async Task PublishConfirmedAsync(string exchange, string routingKey, BasicProperties properties, ReadOnlyMemory<byte> body, string what, CancellationToken cancellationToken)
    {
        var elapsed = Stopwatch.StartNew();
        TimeSpan delay = TimeSpan.FromMilliseconds(100);
        Exception? lastError = null;
        int attempts = 0;
        while (true)
        {
            TimeSpan remaining = _options.PublishTimeout - elapsed.Elapsed;
            if (remaining <= TimeSpan.Zero)
                throw new EventPublishException(
                    $"Publishing {what} to exchange '{exchange}' did not succeed within {_options.PublishTimeout.TotalSeconds:0.#} s ({attempts} attempts; last error: {lastError?.Message ?? "none"}). " +
                    $"Check that RabbitMQ at {SafeEndpoint()} runs, or raise EventBus:PublishTimeout.", lastError);
            using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attemptTimeout.CancelAfter(remaining);
            attempts++;
            try
            {
                await _channels.UseAsync(async channel =>
                {
                    if (!_exchangeDeclared && exchange == _options.ExchangeName)
                    {
                        await EventBusTopology.DeclareExchangeAsync(channel, _options, attemptTimeout.Token).ConfigureAwait(false);
                        _exchangeDeclared = true;
                    }
                    await channel.BasicPublishAsync(exchange, routingKey, mandatory: false, properties, body, attemptTimeout.Token).ConfigureAwait(false);
                    return true;
                }, attemptTimeout.Token).ConfigureAwait(false);
                if (attempts > 1) _logger.LogInformation("Published {What} after {Attempts} attempts", what, attempts);
                return;
            }
            catch (PublishException e) when (!e.IsReturn)
            {
                throw new EventPublishException(
                    $"RabbitMQ refused to store {what} (negative confirm for publish #{e.PublishSequenceNumber} on exchange '{exchange}'); the broker log at {SafeEndpoint()} says why (often a full disk or a memory alarm).", e);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                lastError = new TimeoutException("timed out waiting for the broker (unreachable, or slow to confirm)", e);
                continue; // the time is used up: the loop reports it
            }
            catch (Exception e) when (e is not (MessagingConfigurationException or ObjectDisposedException) && !cancellationToken.IsCancellationRequested)
            {
                lastError = e;
                _logger.LogDebug("Publishing {What} failed (attempt {Attempt}: {Error}); retrying", what, attempts, e.Message);
            }
            TimeSpan wait = delay < remaining ? delay : remaining;
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetryDelay.Ticks));
        }
    }

    /// <summary>Problems that make an event unpublishable and undeliverable: a missing id or campaign, or its own validation.</summary>
    internal static IReadOnlyList<string> EventProblems(IntegrationEvent @event)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(@event.Id))
            problems.Add("Id is empty (derive it with EventIds.Derive(campaignId, parentId, index))");
        if (string.IsNullOrWhiteSpace(@event.CampaignId))
            problems.Add("CampaignId is empty");
        if (@event.SchemaVersion < 1)
            problems.Add($"SchemaVersion {@event.SchemaVersion} is below 1");
        if (@event is IValidatableEvent validatable)
            problems.AddRange(validatable.Validate());
        return problems;
    }

    internal static RabbitMqConnectionProvider RequireConnectionProvider(IServiceProvider services, string serviceName) =>
        !services.GetRequiredService<IServiceProviderIsService>().IsService(typeof(IConnection))
            ? throw new MessagingConfigurationException(
                $"The event bus of service '{serviceName}' has no RabbitMQ connection: call builder.AddRabbitMQClient(\"messaging\") (Aspire's client integration) before AddEventBus.")
            : services.GetRequiredService<RabbitMqConnectionProvider>();

    private string SafeEndpoint() => _connections.Endpoint;

    public ValueTask DisposeAsync() => _channels.DisposeAsync();
}
