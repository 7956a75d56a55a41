using k8s;
using k8s.Models;

namespace FailureSynth.Deploy.Tests;

/// <summary>
/// Loads Kubernetes YAML into the client library's typed models, strictly: an unknown field, or a kind that is
/// not in <see cref="Kinds"/>, fails. The custom resources load into the models in CustomResources.cs.
/// </summary>
internal static class Manifests
{
    /// <summary>Every apiVersion/kind the manifests may contain.</summary>
    public static IReadOnlyDictionary<string, Type> Kinds { get; } = new Dictionary<string, Type>
    {
        ["v1/Namespace"] = typeof(V1Namespace),
        ["v1/Secret"] = typeof(V1Secret),
        ["v1/Service"] = typeof(V1Service),
        ["v1/PersistentVolumeClaim"] = typeof(V1PersistentVolumeClaim),
        ["apps/v1/Deployment"] = typeof(V1Deployment),
        ["policy/v1/PodDisruptionBudget"] = typeof(V1PodDisruptionBudget),
        ["networking.k8s.io/v1/NetworkPolicy"] = typeof(V1NetworkPolicy),
        ["keda.sh/v1alpha1/ScaledObject"] = typeof(ScaledObject),
        ["keda.sh/v1alpha1/TriggerAuthentication"] = typeof(TriggerAuthentication),
        ["rabbitmq.com/v1beta1/RabbitmqCluster"] = typeof(RabbitmqCluster),
    };

    public static List<object> Load(string yaml, string source)
    {
        foreach (string document in Documents(yaml))
        {
            var head = KubernetesYaml.Deserialize<KubernetesObject>(document);
            string key = $"{head.ApiVersion}/{head.Kind}";
            if (!Kinds.ContainsKey(key))
                throw new InvalidDataException($"{source}: {key} is not a kind the manifests may use (known: {string.Join(", ", Kinds.Keys)}).");
        }
        try
        {
            return KubernetesYaml.LoadAllFromString(yaml, Kinds.ToDictionary(), strict: true);
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"{source}: {e.Message}{(e.InnerException is { } inner ? " (" + inner.Message + ")" : "")}", e);
        }
    }

    public static List<object> LoadFile(string path) => Load(File.ReadAllText(path), Path.GetRelativePath(DeployFiles.Root, path));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<string>> Rendered = new();

    /// <summary>
    /// Renders an overlay with kustomize (kubectl kustomize) and loads the result into fresh objects. Each overlay
    /// is rendered once per test run: kubectl takes seconds, and the files do not change while the tests run.
    /// </summary>
    public static List<object> Render(string overlay) => Load(RenderYaml(overlay), $"overlay {overlay}");

    public static string RenderYaml(string overlay) => Rendered.GetOrAdd(overlay, o => new Lazy<string>(() =>
    {
        var (code, stdout, stderr) = DeployFiles.Run("kubectl", ["kustomize", DeployFiles.Path("deploy", "k8s", "overlays", o)]);
        Assert.True(code == 0, $"kubectl kustomize deploy/k8s/overlays/{o} failed ({code}): {stderr}");
        return stdout;
    })).Value;

    private static IEnumerable<string> Documents(string yaml) =>
        System.Text.RegularExpressions.Regex.Split(yaml, @"^---\s*$", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Where(d => d.Split('\n').Any(line => line.Trim() is { Length: > 0 } t && !t.StartsWith('#')));

    public static IEnumerable<T> OfKind<T>(this IEnumerable<object> objects) => objects.OfType<T>();

    public static string Name(this object o) => ((IMetadata<V1ObjectMeta>)o).Metadata.Name;
}
