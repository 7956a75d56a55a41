using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RabbitMQ.Client;

namespace FailureSynth.Messaging.Tests;

/// <summary>The bus end to end against a real broker: routing, headers, tracing, competing consumers, dead letters, idempotency.</summary>
[Collection(SharedBrokerCollection.Name)]
public sealed class EventBusTests(SharedBroker broker)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    // Every test gets its own exchange (and so its own queues) on the shared broker.
    private readonly string _exchange = $"t-{Guid.NewGuid():N}"[..14];

    private string ConnectionString => broker.ConnectionString;

    private Task<TestService> StartRendererAsync(Action<EventBusOptions>? configure = null) =>
        TestService.StartAsync(ConnectionString, _exchange, "renderer", bus => bus
            .AddSubscription<SampleRendered, RecordingHandler<SampleRendered>>()
            .AddSubscription<SampleAccepted, RecordingHandler<SampleAccepted>>(), configure);

    [Fact]
    public async Task Published_event_arrives_with_its_headers_and_the_publishers_trace()
    {
        using var testSource = new ActivitySource("FailureSynth.Messaging.Tests");
        var stopped = new System.Collections.Concurrent.ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is EventBusDiagnostics.ActivitySourceName or "FailureSynth.Messaging.Tests" || source.Name.StartsWith("RabbitMQ.Client", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using TestService renderer = await StartRendererAsync();
        await using BrokerProbe probe = await BrokerProbe.ConnectAsync(ConnectionString);
        string inspection = (await probe.Channel.QueueDeclareAsync(exclusive: true)).QueueName;
        await probe.Channel.QueueBindAsync(inspection, _exchange, nameof(SampleRendered));

        SampleRendered published = TestEvents.Rendered("campaign-7", 0);
        ActivityTraceId campaignTrace;
        using (Activity step = testSource.StartActivity("render step")!)
        {
            campaignTrace = step.TraceId;
            await renderer.Bus.PublishAsync(published);
        }

        await Eventually.HoldsAsync(() => renderer.Handled.Count == 1, Patience, "the event to be handled");
        HandledEvent handled = renderer.Handled.All.Single();
        Assert.Equal(published, handled.Event);
        Assert.Equal(campaignTrace, handled.TraceId);
        // The consumer's span hangs under the publisher's (directly, or under the RabbitMQ client's own send span
        // beneath it, which Aspire's client integration traces), which hangs under the caller's.
        Activity publish = stopped.Single(a => a.OperationName == "SampleRendered publish" && a.TraceId == campaignTrace);
        Assert.Equal(ActivityKind.Producer, publish.Kind);
        Assert.True(handled.ParentSpanId == publish.SpanId || stopped.Any(a => a.SpanId == handled.ParentSpanId && a.ParentSpanId == publish.SpanId),
            "the consumer's span is not under the publisher's");

        BasicGetResult message = (await probe.TakeAsync(inspection, 1, Patience)).Single();
        IDictionary<string, object?> headers = message.BasicProperties.Headers!;
        Assert.Equal(nameof(SampleRendered), message.RoutingKey);
        Assert.Equal(published.Id, message.BasicProperties.MessageId);
        Assert.Equal(DeliveryModes.Persistent, message.BasicProperties.DeliveryMode);
        Assert.Equal(nameof(SampleRendered), MessageHeaders.GetString(headers, MessageHeaders.EventType));
        Assert.Equal(1, MessageHeaders.GetInt64(headers, MessageHeaders.SchemaVersion));
        Assert.Equal("campaign-7", MessageHeaders.GetString(headers, MessageHeaders.CampaignId));
        Assert.Equal($"00-{campaignTrace}-{handled.ParentSpanId}-01", MessageHeaders.GetString(headers, MessageHeaders.TraceParent));
        using JsonDocument body = JsonDocument.Parse(message.Body);
        Assert.Equal("sample-0", body.RootElement.GetProperty("sampleId").GetString());
        Assert.Equal(published.Id, body.RootElement.GetProperty("id").GetString());
        Assert.Equal("campaign-7", body.RootElement.GetProperty("campaignId").GetString());
    }

    [Fact]
    public async Task A_service_queue_receives_only_the_event_types_it_subscribed_to()
    {
        await using TestService renderer = await StartRendererAsync();
        await using TestService teacher = await TestService.StartAsync(ConnectionString, _exchange, "teacher",
            bus => bus.AddSubscription<SkillDiagnosed, RecordingHandler<SkillDiagnosed>>());

        await renderer.Bus.PublishAsync(TestEvents.Rendered("c1", 1));
        await renderer.Bus.PublishAsync(new SkillDiagnosed("count") { Id = EventIds.Derive("c1", "diagnose", "1"), CampaignId = "c1" });
        await renderer.Bus.PublishAsync(TestEvents.Rendered("c1", 2));

        await Eventually.HoldsAsync(() => renderer.Handled.Count == 2 && teacher.Handled.Count == 1, Patience, "both services to handle their events");
        Assert.All(renderer.Handled.All, h => Assert.IsType<SampleRendered>(h.Event));
        Assert.IsType<SkillDiagnosed>(teacher.Handled.All.Single().Event);
        // An event type routed to the wrong queue would have been dead-lettered as unknown, before the later event was handled.
        await using BrokerProbe probe = await BrokerProbe.ConnectAsync(ConnectionString);
        Assert.Equal(0u, await probe.MessageCountAsync($"{_exchange}.renderer.dead"));
        Assert.Equal(0u, await probe.MessageCountAsync($"{_exchange}.teacher.dead"));
    }

    [Fact]
    public async Task Replicas_of_a_service_compete_for_its_queue_and_each_event_is_handled_once()
    {
        await using TestService first = await StartRendererAsync();
        await using TestService second = await StartRendererAsync();
        const int Events = 40;
        for (int i = 0; i < Events; i++) await first.Bus.PublishAsync(TestEvents.Rendered("c2", i));

        await Eventually.HoldsAsync(() => first.Handled.Count + second.Handled.Count >= Events, Patience, $"{Events} events to be handled");
        string[] firstIds = [.. first.Handled.All.Select(h => h.Event.Id)];
        string[] secondIds = [.. second.Handled.All.Select(h => h.Event.Id)];
        Assert.NotEmpty(firstIds);
        Assert.NotEmpty(secondIds);
        Assert.Empty(firstIds.Intersect(secondIds));
        Assert.Equal(
            Enumerable.Range(0, Events).Select(i => TestEvents.Rendered("c2", i).Id).Order(),
            firstIds.Concat(secondIds).Order());
    }

    public static TheoryData<string, string, string> UndeliverableMessages => new()
    {
        { nameof(SampleRendered), "{\"id\": \"x1\", \"campaignId\": \"c3\", \"sampleId\": ", "System.Text.Json.JsonException: " },
        { nameof(SampleRendered), "{\"sampleId\": \"s\", \"width\": 3}", "System.Text.Json.JsonException: " },
        { nameof(SampleAccepted), "{\"id\": \"x3\", \"campaignId\": \"c3\", \"sampleId\": \"s\", \"score\": 7}", "ValidationFailed: Score 7 is outside [0, 1]" },
        { "SampleRetracted", "{\"id\": \"x4\", \"campaignId\": \"c3\"}", "UnknownEventType: service 'renderer' has no subscription for event type 'SampleRetracted'" },
    };

    [Theory]
    [MemberData(nameof(UndeliverableMessages))]
    public async Task An_undeliverable_message_goes_to_the_dead_letter_queue_with_its_reason_and_later_events_still_flow(
        string eventTypeHeader, string body, string expectedReason)
    {
        await using TestService renderer = await StartRendererAsync();
        await using BrokerProbe probe = await BrokerProbe.ConnectAsync(ConnectionString);
        byte[] raw = Encoding.UTF8.GetBytes(body);

        // Routed with a subscribed type's key, as a buggy or outdated producer would send it.
        await probe.PublishRawAsync(_exchange, nameof(SampleRendered), raw,
            new Dictionary<string, object?> { [MessageHeaders.EventType] = eventTypeHeader, [MessageHeaders.CampaignId] = "c3" }, messageId: "poison-1");
        await renderer.Bus.PublishAsync(TestEvents.Rendered("c3", 1));
        await renderer.Bus.PublishAsync(TestEvents.Rendered("c3", 2));

        await Eventually.HoldsAsync(() => renderer.Handled.Count == 2, Patience, "the good events after the poison message");
        BasicGetResult dead = (await probe.TakeAsync($"{_exchange}.renderer.dead", 1, Patience)).Single();
        IDictionary<string, object?> headers = dead.BasicProperties.Headers!;
        Assert.StartsWith(expectedReason, MessageHeaders.GetString(headers, MessageHeaders.FailureReason));
        Assert.Equal("renderer", MessageHeaders.GetString(headers, MessageHeaders.FailedService));
        Assert.Equal(eventTypeHeader, MessageHeaders.GetString(headers, MessageHeaders.EventType));
        Assert.Equal("poison-1", dead.BasicProperties.MessageId);
        Assert.Equal(raw, dead.Body.ToArray());
        Assert.Equal(0u, await probe.MessageCountAsync($"{_exchange}.renderer"));
    }

    [Fact]
    public async Task A_handler_that_always_throws_is_retried_up_to_the_delivery_limit_then_dead_lettered_with_the_exception()
    {
        await using TestService teacher = await TestService.StartAsync(ConnectionString, _exchange, "teacher",
            bus => bus.AddSubscription<SkillDiagnosed, AlwaysFailingHandler>(), options => options.DeliveryLimit = 3);
        await using BrokerProbe probe = await BrokerProbe.ConnectAsync(ConnectionString);
        var diagnosed = new SkillDiagnosed("counting") { Id = EventIds.Derive("c4", "diagnose", "0"), CampaignId = "c4" };

        await teacher.Bus.PublishAsync(diagnosed);

        BasicGetResult dead = (await probe.TakeAsync($"{_exchange}.teacher.dead", 1, Patience)).Single();
        IDictionary<string, object?> headers = dead.BasicProperties.Headers!;
        Assert.Equal(
            $"System.InvalidOperationException: teacher unavailable for skill counting (handler teacher/{typeof(AlwaysFailingHandler).FullName}, attempt 3 of 3)",
            MessageHeaders.GetString(headers, MessageHeaders.FailureReason));
        Assert.Equal("teacher", MessageHeaders.GetString(headers, MessageHeaders.FailedService));
        Assert.Equal(diagnosed.Id, dead.BasicProperties.MessageId);
        Assert.Equal(3, teacher.Handled.Count);
        Assert.Equal(0u, await probe.MessageCountAsync($"{_exchange}.teacher"));
    }

    [Fact]
    public async Task A_handler_dead_letters_the_bad_part_of_a_batch_with_its_reason_and_nothing_else_stops()
    {
        await using TestService renderer = await StartRendererAsync();
        await using BrokerProbe probe = await BrokerProbe.ConnectAsync(ConnectionString);
        SampleRendered bad = TestEvents.Rendered("c11", 3) with { Width = -1 };

        await renderer.Bus.DeadLetterAsync(bad, "MalformedItems: Items[3] (index 3): Width is -1");
        await renderer.Bus.PublishAsync(TestEvents.Rendered("c11", 4));

        await Eventually.HoldsAsync(() => renderer.Handled.Count == 1, Patience, "the event published after the dead letter");
        BasicGetResult dead = (await probe.TakeAsync($"{_exchange}.renderer.dead", 1, Patience)).Single();
        IDictionary<string, object?> headers = dead.BasicProperties.Headers!;
        Assert.Equal("MalformedItems: Items[3] (index 3): Width is -1", MessageHeaders.GetString(headers, MessageHeaders.FailureReason));
        Assert.Equal("renderer", MessageHeaders.GetString(headers, MessageHeaders.FailedService));
        Assert.Equal(nameof(SampleRendered), MessageHeaders.GetString(headers, MessageHeaders.EventType));
        Assert.Equal(bad.Id, dead.BasicProperties.MessageId);
        Assert.Equal(-1, JsonDocument.Parse(dead.Body).RootElement.GetProperty("width").GetInt32());
        Assert.Equal(0u, await probe.MessageCountAsync($"{_exchange}.renderer"));
    }

    [Fact]
    public async Task The_same_event_delivered_twice_is_handled_once()
    {
        await using TestService renderer = await StartRendererAsync();
        SampleRendered once = TestEvents.Rendered("c5", 0);
        SampleRendered after = TestEvents.Rendered("c5", 1);

        await renderer.Bus.PublishAsync(once);
        await renderer.Bus.PublishAsync(once with { });
        await renderer.Bus.PublishAsync(after);

        // One consumer handles its queue in order: once the last event is in, both copies were seen.
        await Eventually.HoldsAsync(() => renderer.Handled.All.Any(h => h.Event.Id == after.Id), Patience, "the event after the duplicate");
        Assert.Equal([once.Id, after.Id], renderer.Handled.All.Select(h => h.Event.Id));
        await using BrokerProbe probe = await BrokerProbe.ConnectAsync(ConnectionString);
        Assert.Equal(0u, await probe.MessageCountAsync($"{_exchange}.renderer"));
    }

    [Fact]
    public async Task Aspires_RabbitMQ_health_check_is_healthy_while_connected()
    {
        await using TestService renderer = await StartRendererAsync();
        HealthReport report = await renderer.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var messaging = Assert.Single(report.Entries, e => e.Key.Contains("RabbitMQ", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(HealthStatus.Healthy, messaging.Value.Status);
    }

    [Fact]
    public async Task The_bus_runs_on_the_IConnection_that_Aspires_client_integration_provides()
    {
        await using TestService renderer = await StartRendererAsync();

        IConnection connection = renderer.Services.GetRequiredService<IConnection>();

        Assert.True(connection.IsOpen);
        Assert.Same(connection, await renderer.Services.GetRequiredService<RabbitMqConnectionProvider>().GetConnectionAsync());
        Assert.Equal(broker.Address.Port, connection.Endpoint.Port);
    }
}
