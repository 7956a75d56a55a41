using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace FailureSynth.Messaging;

/// <summary>
/// Consumes the service's queue: one message at a time per replica, manual acks, bounded
/// prefetch. Undeliverable messages (unknown type, unreadable, invalid) go straight to the
/// dead-letter queue with the reason; a failing handler is retried by requeueing until the
/// delivery limit, and its last failure is then dead-lettered with the exception.
/// </summary>
internal sealed class EventBusConsumer : IHostedService, IAsyncDisposable
{
    // Failures remembered per message id, for brokers that do not count deliveries.
    private const int RememberedFailures = 10_000;

    private readonly IServiceProvider _services;
    private readonly EventBusOptions _options;
    private readonly EventBusSubscriptions _subscriptions;
    private readonly RabbitMqEventBus _bus;
    private readonly IProcessedEventStore _processed;
    private readonly ILogger<EventBusConsumer> _logger;
    private readonly RabbitMqConnectionProvider _connections;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _processing;
    private readonly ConcurrentDictionary<string, int> _failures = new();
    private IChannel? _channel;
    private string? _consumerTag;

    public EventBusConsumer(IServiceProvider services, IOptions<EventBusOptions> options, IOptions<EventBusSubscriptions> subscriptions,
        RabbitMqEventBus bus, IProcessedEventStore processed, ILogger<EventBusConsumer> logger)
    {
        _services = services;
        _options = options.Value;
        _options.Validate();
        _processing = new SemaphoreSlim(_options.ConcurrentHandlers, _options.ConcurrentHandlers);
        _subscriptions = subscriptions.Value;
        _bus = bus;
        _processed = processed;
        _logger = logger;
        _connections = RabbitMqEventBus.RequireConnectionProvider(services, _options.ServiceName);
    }

    /// <summary>
    /// Declares the queues and starts consuming before the host reports started, so that an
    /// event published after start-up always finds the service's queue bound.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_subscriptions.All.Count == 0)
        {
            _logger.LogInformation("Service {Service} subscribes to no events; not consuming", _options.ServiceName);
            return;
        }
        IConnection connection = await _connections.GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        _channel = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: (ushort)_options.ConcurrentHandlers), cancellationToken).ConfigureAwait(false);
        await EventBusTopology.DeclareServiceQueuesAsync(_channel, _options, _subscriptions.EventTypeNames, cancellationToken).ConfigureAwait(false);
        await _channel.BasicQosAsync(0, _options.PrefetchCount, global: false, cancellationToken).ConfigureAwait(false);
        var consumer = new AsyncEventingBasicConsumer(_channel);
        consumer.ReceivedAsync += OnReceivedAsync;
        _consumerTag = await _channel.BasicConsumeAsync(_options.QueueName, autoAck: false, consumer, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Service {Service} consumes {Queue} ({EventTypes})", _options.ServiceName, _options.QueueName, string.Join(", ", _subscriptions.EventTypeNames));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        IChannel? channel = _channel;
        if (channel is null) return;
        try
        {
            if (channel.IsOpen && _consumerTag is not null)
                await channel.BasicCancelAsync(_consumerTag, noWait: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A broker that is down or unwell must not keep the service from stopping.
            _logger.LogWarning("Cancelling the consumer of {Queue} failed ({Error}); closing its channel anyway", _options.QueueName, e.Message);
        }
        // Let the messages in hand finish unless the host's shutdown timeout runs out first.
        int taken = 0;
        try
        {
            for (; taken < _options.ConcurrentHandlers; taken++) await _processing.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }
        finally
        {
            if (taken > 0) _processing.Release(taken);
        }
        await CloseChannelAsync().ConfigureAwait(false);
    }

    private async Task CloseChannelAsync()
    {
        IChannel? channel = Interlocked.Exchange(ref _channel, null);
        if (channel is null) return;
        try
        {
            if (channel.IsOpen) await channel.CloseAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Closing the consumer channel of {Queue} failed", _options.QueueName);
        }
        await channel.DisposeAsync().ConfigureAwait(false);
    }

    private async Task OnReceivedAsync(object sender, BasicDeliverEventArgs delivery)
    {
        IChannel channel = ((AsyncEventingBasicConsumer)sender).Channel;
        await _processing.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await ProcessAsync(channel, delivery).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Anything unforeseen (store or broker failure): leave the message for a later try.
            _logger.LogError(e, "Processing message {MessageId} from {Queue} failed; requeueing it", delivery.BasicProperties.MessageId, _options.QueueName);
            await SettleAsync(() => channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None)).ConfigureAwait(false);
        }
        finally
        {
            _processing.Release();
        }
    }

    private async Task ProcessAsync(IChannel channel, BasicDeliverEventArgs delivery)
    {
        CancellationToken stopping = _stopping.Token;
        IDictionary<string, object?>? headers = delivery.BasicProperties.Headers;
        byte[] body = delivery.Body.ToArray(); // the client reuses the delivery's buffer after this callback
        string eventTypeName = MessageHeaders.GetString(headers, MessageHeaders.EventType) ?? delivery.RoutingKey;

        ActivityContext.TryParse(MessageHeaders.GetString(headers, MessageHeaders.TraceParent), MessageHeaders.GetString(headers, MessageHeaders.TraceState),
            isRemote: true, out ActivityContext parent);
        using Activity? activity = EventBusDiagnostics.Source.StartActivity($"{eventTypeName} process", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.destination.name", _options.QueueName);
        activity?.SetTag("messaging.message.id", delivery.BasicProperties.MessageId);
        // Every log line of the handling (the handler's own included) names the campaign it served.
        using IDisposable? campaignScope = MessageHeaders.GetString(headers, MessageHeaders.CampaignId) is { } campaignId
            ? _logger.BeginScope(new Dictionary<string, object?> { ["CampaignId"] = campaignId })
            : null;

        EventSubscription? subscription = _subscriptions.Find(eventTypeName);
        if (subscription is null)
        {
            await DeadLetterAsync(channel, delivery, body, activity,
                $"UnknownEventType: service '{_options.ServiceName}' has no subscription for event type '{eventTypeName}'", handler: null).ConfigureAwait(false);
            return;
        }

        IntegrationEvent? @event;
        try
        {
            @event = (IntegrationEvent?)JsonSerializer.Deserialize(body, subscription.EventType, EventJson.Options);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            await DeadLetterAsync(channel, delivery, body, activity, $"{e.GetType().FullName}: {e.Message}", handler: null).ConfigureAwait(false);
            return;
        }
        IReadOnlyList<string> problems = @event is null
            ? [$"the body is JSON null, not a {eventTypeName}"]
            : RabbitMqEventBus.EventProblems(@event);
        if (problems.Count > 0)
        {
            await DeadLetterAsync(channel, delivery, body, activity, $"ValidationFailed: {string.Join("; ", problems)}", handler: null).ConfigureAwait(false);
            return;
        }

        foreach (HandlerBinding handler in subscription.Handlers)
        {
            string handlerKey = $"{_options.ServiceName}/{handler.HandlerType.FullName}";
            if (await _processed.IsProcessedAsync(handlerKey, @event!.Id, stopping).ConfigureAwait(false))
            {
                _logger.LogDebug("{Handler} already handled {EventType} '{EventId}'; skipping the redelivery", handlerKey, eventTypeName, @event.Id);
                continue;
            }
            try
            {
                await using AsyncServiceScope scope = _services.CreateAsyncScope();
                await handler.InvokeAsync(scope.ServiceProvider, @event, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                await SettleAsync(() => channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None)).ConfigureAwait(false);
                return;
            }
            catch (Exception e)
            {
                await HandlerFailedAsync(channel, delivery, body, activity, @event, handlerKey, e).ConfigureAwait(false);
                return;
            }
            await _processed.TryMarkProcessedAsync(handlerKey, @event.Id, CancellationToken.None).ConfigureAwait(false);
        }
        _failures.TryRemove(@event!.Id, out _);
        await SettleAsync(() => channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, CancellationToken.None)).ConfigureAwait(false);
    }

    private async Task HandlerFailedAsync(IChannel channel, BasicDeliverEventArgs delivery, byte[] body, Activity? activity,
        IntegrationEvent @event, string handlerKey, Exception error)
    {
        // Quorum queues count earlier returns in x-delivery-count; the local count covers brokers that do not.
        long brokerAttempt = (MessageHeaders.GetInt64(delivery.BasicProperties.Headers, MessageHeaders.DeliveryCount) ?? 0) + 1;
        if (_failures.Count > RememberedFailures) _failures.Clear();
        int localAttempt = _failures.AddOrUpdate(@event.Id, 1, (_, count) => count + 1);
        long attempt = Math.Max(brokerAttempt, localAttempt);
        if (attempt >= _options.DeliveryLimit)
        {
            // Dead-letter it ourselves, before the broker would, so the reason names the exception.
            _failures.TryRemove(@event.Id, out _);
            await DeadLetterAsync(channel, delivery, body, activity,
                $"{error.GetType().FullName}: {error.Message} (handler {handlerKey}, attempt {attempt} of {_options.DeliveryLimit})", handlerKey).ConfigureAwait(false);
            return;
        }
        _logger.LogWarning(error, "{Handler} failed on {EventType} '{EventId}' (attempt {Attempt} of {Limit}); requeueing it",
            handlerKey, @event.GetType().Name, @event.Id, attempt, _options.DeliveryLimit);
        activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        await SettleAsync(() => channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None)).ConfigureAwait(false);
    }

    /// <summary>Copies the message, with the reason in its headers, to the service's dead-letter queue, then acks the original.</summary>
    private async Task DeadLetterAsync(IChannel channel, BasicDeliverEventArgs delivery, byte[] body, Activity? activity, string reason, string? handler)
    {
        IReadOnlyBasicProperties original = delivery.BasicProperties;
        var headers = original.Headers is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(original.Headers);
        headers[MessageHeaders.FailureReason] = reason;
        headers[MessageHeaders.FailedService] = _options.ServiceName;
        headers[MessageHeaders.OriginalRoutingKey] = delivery.RoutingKey;
        if (handler is not null) headers[MessageHeaders.FailedHandler] = handler;
        var properties = new BasicProperties
        {
            MessageId = original.MessageId,
            Type = original.Type,
            ContentType = original.ContentType,
            CorrelationId = original.CorrelationId,
            DeliveryMode = DeliveryModes.Persistent,
            Headers = headers,
        };
        await _bus.PublishConfirmedAsync(_options.DeadLetterExchangeName, _options.DeadLetterQueueName, properties, body,
            $"dead letter of message '{original.MessageId}'", CancellationToken.None).ConfigureAwait(false);
        await SettleAsync(() => channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, CancellationToken.None)).ConfigureAwait(false);
        activity?.SetStatus(ActivityStatusCode.Error, reason);
        EventBusDiagnostics.DeadLettered(_options.ServiceName, MessageHeaders.GetString(original.Headers, MessageHeaders.EventType) ?? delivery.RoutingKey, reason);
        _logger.LogWarning("Dead-lettered message '{MessageId}' from {Queue} to {DeadLetterQueue}: {Reason}",
            original.MessageId, _options.QueueName, _options.DeadLetterQueueName, reason);
    }

    private async Task SettleAsync(Func<ValueTask> acknowledgement)
    {
        try
        {
            await acknowledgement().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RabbitMQ.Client.Exceptions.AlreadyClosedException or RabbitMQ.Client.Exceptions.OperationInterruptedException or IOException)
        {
            // The channel went down with the connection: the broker requeues the message and
            // redelivers it after recovery, where the processed-event store skips finished work.
            _logger.LogWarning("Could not settle a delivery on {Queue} ({Error}); the broker will redeliver it", _options.QueueName, e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseChannelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
