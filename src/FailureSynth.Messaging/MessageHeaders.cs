using System.Globalization;
using System.Text;

namespace FailureSynth.Messaging;

/// <summary>The AMQP headers the bus writes and reads; the dead-letter ones explain why a message was set aside.</summary>
public static class MessageHeaders
{
    public const string EventType = "event-type";
    public const string SchemaVersion = "schema-version";
    public const string CampaignId = "campaign-id";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";
    public const string FailureReason = "x-failure-reason";
    public const string FailedService = "x-failed-service";
    public const string FailedHandler = "x-failed-handler";
    public const string OriginalRoutingKey = "x-original-routing-key";

    /// <summary>Set by quorum queues on redelivery: how many earlier deliveries were returned.</summary>
    public const string DeliveryCount = "x-delivery-count";

    /// <summary>Reads a header as text (AMQP delivers strings as UTF-8 byte arrays); null when absent.</summary>
    public static string? GetString(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out object? value) ? AsString(value) : null;

    /// <summary>Reads an integer header whatever AMQP integer width it was sent with; null when absent or not a number.</summary>
    public static long? GetInt64(IDictionary<string, object?>? headers, string name)
    {
        if (headers is null || !headers.TryGetValue(name, out object? value)) return null;
        return value switch
        {
            byte b => b,
            sbyte sb => sb,
            short s => s,
            ushort us => us,
            int i => i,
            uint ui => ui,
            long l => l,
            ulong ul => (long)ul,
            _ => long.TryParse(AsString(value), NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed) ? parsed : null,
        };
    }

    private static string? AsString(object? value) => value switch
    {
        null => null,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
