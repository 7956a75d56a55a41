using System.Text.Json;
using System.Text.RegularExpressions;

namespace FailureSynth.Deploy.Tests;

/// <summary>
/// The AppHost's model as Aspire publishes it (deploy/aspire-manifest.json): the resources, and for each the
/// variables, bindings and image. AppHostModelTests checks that this file is what the AppHost publishes now, and
/// that Compose and Kubernetes agree with it.
/// </summary>
internal sealed partial record AspireManifest(IReadOnlyDictionary<string, AspireResource> Resources)
{
    public static string FilePath => DeployFiles.Path("deploy", "aspire-manifest.json");

    public static AspireManifest Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var resources = new Dictionary<string, AspireResource>();
        foreach (var resource in document.RootElement.GetProperty("resources").EnumerateObject())
        {
            var r = resource.Value;
            string? Text(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var env = r.TryGetProperty("env", out var e) ? e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "") : [];
            var bindings = r.TryGetProperty("bindings", out var b)
                ? b.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.TryGetProperty("targetPort", out var port) ? port.GetInt32() : (int?)null)
                : [];
            resources[resource.Name] = new AspireResource(resource.Name, Text("type") ?? "", Text("path"), Text("image"), Text("connectionString"), env, bindings,
                r.TryGetProperty("inputs", out var inputs) && inputs.TryGetProperty("value", out var input) && input.TryGetProperty("secret", out var secret) && secret.GetBoolean());
        }
        return new AspireManifest(resources);
    }

    public IEnumerable<AspireResource> Projects => Resources.Values.Where(r => r.Type == "project.v0");

    public IEnumerable<AspireResource> Containers => Resources.Values.Where(r => r.Type == "container.v0");

    /// <summary>What a manifest value refers to: <c>{resource.connectionString}</c>, <c>{resource.bindings.NAME.PROPERTY}</c>, <c>{parameter.value}</c>.</summary>
    public static Reference? Parse(string value) =>
        ReferencePattern().Match(value) is { Success: true } m ? new Reference(m.Groups[1].Value, m.Groups[2].Value) : null;

    [GeneratedRegex(@"^\{([a-z0-9-]+)\.([a-zA-Z.]+)\}$")]
    private static partial Regex ReferencePattern();
}

internal sealed record AspireResource(string Name, string Type, string? Path, string? Image, string? ConnectionString,
    IReadOnlyDictionary<string, string> Env, IReadOnlyDictionary<string, int?> Bindings, bool IsSecretParameter);

internal sealed record Reference(string Resource, string Property);
