using YamlDotNet.RepresentationModel;

namespace FailureSynth.Deploy.Tests;

/// <summary>deploy/compose.yaml as a compose tool resolves it (docker-compose config), with the secrets it needs set.</summary>
internal static class Compose
{
    public static readonly IReadOnlyDictionary<string, string> Secrets = new Dictionary<string, string>
    {
        ["RABBITMQ_PASSWORD"] = "test-rabbitmq-password",
        ["REDIS_PASSWORD"] = "test-redis-password",
        ["OTLP_API_KEY"] = "test-otlp-key",
        ["FAILURESYNTH_API_KEY"] = "test-campaign-api-key-0001",
    };

    public static string File => DeployFiles.Path("deploy", "compose.yaml");

    private static readonly Lazy<YamlMappingNode> Resolved = new(() =>
    {
        var (code, stdout, stderr) = Config(Secrets);
        Assert.True(code == 0, $"docker-compose config failed ({code}): {stderr}");
        return Parse(stdout);
    });

    /// <summary>The resolved file's services, by name.</summary>
    public static YamlMappingNode Services => (YamlMappingNode)Resolved.Value["services"];

    public static (int ExitCode, string Stdout, string Stderr) Config(IReadOnlyDictionary<string, string> environment) =>
        // An empty --env-file: a deploy/.env someone made must not change what the test sees.
        DeployFiles.Run("docker-compose", ["-f", File, "--env-file", EmptyEnvFile.Value, "config"], environment);

    private static readonly Lazy<string> EmptyEnvFile = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"failuresynth-compose-{Environment.ProcessId}.env");
        System.IO.File.WriteAllText(path, "");
        return path;
    });

    public static YamlMappingNode Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    public static YamlNode? Get(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static string? Text(this YamlMappingNode node, string key) => (node.Get(key) as YamlScalarNode)?.Value;

    public static IReadOnlyDictionary<string, string> Variables(this YamlMappingNode service) =>
        service.Get("environment") is YamlMappingNode env
            ? env.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value ?? "")
            : new Dictionary<string, string>();

    public static IEnumerable<string> Strings(this YamlNode? node) =>
        node is YamlSequenceNode seq ? seq.Children.Select(c => ((YamlScalarNode)c).Value!) : [];
}
