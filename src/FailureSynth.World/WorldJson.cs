using System.Text.Json;
using System.Text.Json.Serialization;

namespace FailureSynth.World;

/// <summary>The JSON settings for ShapesWorld specs (scenes, programs, samples): camelCase, compact, enums as names, unnamed attributes left out.</summary>
public static class WorldJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = false,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        // Shared by every caller, so nobody may change it after the fact.
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"The JSON text holds null where a {typeof(T).Name} was expected.");
}
