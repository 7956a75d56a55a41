using System.Collections.Concurrent;
using System.Diagnostics;

namespace FailureSynth.Messaging.Tests;

/// <summary>A test event: the image synth rendered a sample.</summary>
public sealed record SampleRendered(string SampleId, int Width) : IntegrationEvent;

/// <summary>A test event: the teacher named a missing skill.</summary>
public sealed record SkillDiagnosed(string Skill) : IntegrationEvent;

/// <summary>A test event that validates itself: the quality filter accepted a sample with a score in [0, 1].</summary>
public sealed record SampleAccepted(string SampleId, double Score) : IntegrationEvent, IValidatableEvent
{
    public IReadOnlyList<string> Validate() =>
        Score is >= 0 and <= 1 ? [] : [$"Score {Score} is outside [0, 1]"];
}

/// <summary>What the handlers of one test service instance saw, in order.</summary>
public sealed class HandledEvents
{
    private readonly ConcurrentQueue<HandledEvent> _events = new();

    public IReadOnlyList<HandledEvent> All => [.. _events];

    public int Count => _events.Count;

    public void Add(IntegrationEvent @event) =>
        _events.Enqueue(new HandledEvent(@event, Activity.Current?.TraceId, Activity.Current?.ParentSpanId));
}

/// <summary>One handled event and the trace the handler ran in.</summary>
public sealed record HandledEvent(IntegrationEvent Event, ActivityTraceId? TraceId, ActivitySpanId? ParentSpanId);

/// <summary>Records every event it handles.</summary>
public sealed class RecordingHandler<TEvent>(HandledEvents handled) : IIntegrationEventHandler<TEvent> where TEvent : IntegrationEvent
{
    public Task HandleAsync(TEvent @event, CancellationToken cancellationToken)
    {
        handled.Add(@event);
        return Task.CompletedTask;
    }
}

/// <summary>Counts its attempts and always fails: a handler bug the bus must contain.</summary>
public sealed class AlwaysFailingHandler(HandledEvents attempts) : IIntegrationEventHandler<SkillDiagnosed>
{
    public Task HandleAsync(SkillDiagnosed @event, CancellationToken cancellationToken)
    {
        attempts.Add(@event);
        throw new InvalidOperationException($"teacher unavailable for skill {@event.Skill}");
    }
}

/// <summary>Events with ids derived the way a campaign derives them.</summary>
public static class TestEvents
{
    public static SampleRendered Rendered(string campaign, int index) =>
        new($"sample-{index}", 64) { Id = EventIds.Derive(campaign, "render", index.ToString(System.Globalization.CultureInfo.InvariantCulture)), CampaignId = campaign };
}
