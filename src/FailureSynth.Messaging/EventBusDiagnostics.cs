using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FailureSynth.Messaging;

/// <summary>Names under which the bus reports traces and metrics, for telemetry set-up (<c>AddSource</c>, <c>AddMeter</c>).</summary>
public static class EventBusDiagnostics
{
    public const string ActivitySourceName = "FailureSynth.Messaging";

    /// <summary>The bus's instruments belong to FailureSynth's one meter, beside the campaign's.</summary>
    public const string MeterName = "FailureSynth";

    internal static readonly ActivitySource Source = new(ActivitySourceName);

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("failuresynth.dead_letters", "{message}",
        "Messages a service set aside in its dead-letter queue, by service, event type and kind of reason.");

    /// <summary>Counts a dead-lettered message; the kind is the reason up to its first ':' (UnknownEventType, ValidationFailed, an exception type).</summary>
    internal static void DeadLettered(string service, string eventType, string reason)
    {
        int colon = reason.IndexOf(':', StringComparison.Ordinal);
        DeadLetters.Add(1, new("failuresynth.service", service), new("messaging.message.type", eventType),
            new("failuresynth.reason", colon > 0 ? reason[..colon] : reason));
    }
}
