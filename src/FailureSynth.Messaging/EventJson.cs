using System.Text.Json;

namespace FailureSynth.Messaging;

/// <summary>The JSON shape of event bodies: camelCase, as the rest of the project's wire formats.</summary>
internal static class EventJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
