using System.Diagnostics;

namespace FailureSynth.Messaging;

/// <summary>Names under which the bus reports traces, for telemetry set-up (<c>AddSource</c>).</summary>
public static class EventBusDiagnostics
{
    public const string ActivitySourceName = "FailureSynth.Messaging";

    internal static readonly ActivitySource Source = new(ActivitySourceName);
}
