using k8s;
using k8s.Models;

namespace FailureSynth.Deploy.Tests;

// Small models of the custom resources the manifests use, with only the fields FailureSynth sets (names as in
// the projects' CRDs: keda.sh/v1alpha1 ScaledObject and TriggerAuthentication, rabbitmq.com/v1beta1
// RabbitmqCluster). Loaded strictly like the built-in kinds, a field that is not here fails the test: add it
// here only after checking it in the CRD.

public sealed class ScaledObject : IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = "";
    public string Kind { get; set; } = "";
    public V1ObjectMeta Metadata { get; set; } = new();
    public ScaledObjectSpec Spec { get; set; } = new();
}

public sealed class ScaledObjectSpec
{
    public ScaleTargetRef ScaleTargetRef { get; set; } = new();
    public int? MinReplicaCount { get; set; }
    public int? MaxReplicaCount { get; set; }
    public int? PollingInterval { get; set; }
    public int? CooldownPeriod { get; set; }
    public List<ScaleTrigger> Triggers { get; set; } = [];
}

public sealed class ScaleTargetRef
{
    public string? ApiVersion { get; set; }
    public string? Kind { get; set; }
    public string Name { get; set; } = "";
}

public sealed class ScaleTrigger
{
    public string Type { get; set; } = "";
    public Dictionary<string, string> Metadata { get; set; } = [];
    public AuthenticationRef? AuthenticationRef { get; set; }
}

public sealed class AuthenticationRef
{
    public string Name { get; set; } = "";
    public string? Kind { get; set; }
}

public sealed class TriggerAuthentication : IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = "";
    public string Kind { get; set; } = "";
    public V1ObjectMeta Metadata { get; set; } = new();
    public TriggerAuthenticationSpec Spec { get; set; } = new();
}

public sealed class TriggerAuthenticationSpec
{
    public List<SecretTargetRef> SecretTargetRef { get; set; } = [];
}

public sealed class SecretTargetRef
{
    public string Parameter { get; set; } = "";
    public string Name { get; set; } = "";
    public string Key { get; set; } = "";
}

public sealed class RabbitmqCluster : IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = "";
    public string Kind { get; set; } = "";
    public V1ObjectMeta Metadata { get; set; } = new();
    public RabbitmqClusterSpec Spec { get; set; } = new();
}

public sealed class RabbitmqClusterSpec
{
    public int? Replicas { get; set; }
    public string? Image { get; set; }
    public V1ResourceRequirements? Resources { get; set; }
    public RabbitmqPersistence? Persistence { get; set; }
    public RabbitmqConfiguration? Rabbitmq { get; set; }
}

public sealed class RabbitmqPersistence
{
    public string? StorageClassName { get; set; }
    public ResourceQuantity? Storage { get; set; }
}

public sealed class RabbitmqConfiguration
{
    public List<string> AdditionalPlugins { get; set; } = [];
    public string? AdditionalConfig { get; set; }
}
