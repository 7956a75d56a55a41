using k8s.Models;

namespace FailureSynth.Deploy.Tests;

/// <summary>deploy/k8s: every manifest loads into typed models (strict), overlays render, and the rules hold.</summary>
public sealed class KubernetesManifestTests
{
    public static TheoryData<string> Overlays => new() { "dev", "gpu" };

    private static readonly string[] Infrastructure = ["messaging", "cache", "dashboard"];

    [Fact]
    public void Every_base_manifest_loads_strictly_into_typed_models()
    {
        string[] files = Directory.GetFiles(DeployFiles.Path("deploy", "k8s", "base"), "*.yaml")
            .Where(f => Path.GetFileName(f) != "kustomization.yaml").Order().ToArray();
        Assert.NotEmpty(files);
        foreach (string file in files) Assert.NotEmpty(Manifests.LoadFile(file));
    }

    [Fact]
    public void Overlay_patches_load_strictly_into_typed_models()
    {
        // Strategic-merge patches are partial objects of the same kinds; the gpu overlay's JSON patch is checked
        // by rendering (Overlay_renders_into_typed_models).
        string[] patches = Directory.GetFiles(DeployFiles.Path("deploy", "k8s", "overlays"), "*.yaml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "kustomization.yaml" && !File.ReadAllText(f).Contains("- op:")).ToArray();
        Assert.NotEmpty(patches);
        foreach (string file in patches) Assert.NotEmpty(Manifests.LoadFile(file));
    }

    [Fact]
    public void A_misspelled_field_is_refused_in_built_in_and_custom_kinds()
    {
        string deployment = File.ReadAllText(DeployFiles.Path("deploy", "k8s", "base", "student.yaml"));
        var error = Assert.Throws<InvalidDataException>(() => Manifests.Load(deployment.Replace("imagePullPolicy:", "imagePullPolicyy:"), "student.yaml"));
        Assert.Contains("imagePullPolicyy", error.Message);

        string scaling = File.ReadAllText(DeployFiles.Path("deploy", "k8s", "base", "autoscaling.yaml"));
        error = Assert.Throws<InvalidDataException>(() => Manifests.Load(scaling.Replace("maxReplicaCount:", "maxReplicas:"), "autoscaling.yaml"));
        Assert.Contains("maxReplicas", error.Message);

        string messaging = File.ReadAllText(DeployFiles.Path("deploy", "k8s", "base", "messaging.yaml"));
        error = Assert.Throws<InvalidDataException>(() => Manifests.Load(messaging.Replace("replicas: 3", "replica: 3"), "messaging.yaml"));
        Assert.Contains("replica", error.Message);

        error = Assert.Throws<InvalidDataException>(() => Manifests.Load("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: x\n", "cronjob.yaml"));
        Assert.Contains("batch/v1/CronJob", error.Message);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Overlay_renders_into_typed_models_with_the_expected_resources(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var counts = objects.GroupBy(o => o.GetType().Name).ToDictionary(g => g.Key, g => g.Count());
        // Five services and three pieces of infrastructure: a Deployment, Service and PDB each for the services,
        // the cache and the dashboard; RabbitMQ is the operator's (its RabbitmqCluster and a PDB).
        Assert.Equal(new Dictionary<string, int>
        {
            [nameof(V1Namespace)] = 1, [nameof(V1Secret)] = 1, [nameof(V1PersistentVolumeClaim)] = 2,
            [nameof(V1Deployment)] = 7, [nameof(V1Service)] = 7, [nameof(V1PodDisruptionBudget)] = 8,
            [nameof(V1NetworkPolicy)] = 7, [nameof(RabbitmqCluster)] = 1, [nameof(ScaledObject)] = 3,
            [nameof(TriggerAuthentication)] = 1,
        }, counts);
        string ns = overlay == "dev" ? "failuresynth-dev" : "failuresynth";
        Assert.All(objects.Where(o => o is not V1Namespace), o => Assert.Equal(ns, ((IMetadata<V1ObjectMeta>)o).Metadata.NamespaceProperty));
        Assert.Equal(ns, objects.OfKind<V1Namespace>().Single().Metadata.Name);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Service_deployments_run_locked_down_with_probes_and_resources(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var deployments = objects.OfKind<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        Assert.Equal(DeployFiles.Services.Keys.Concat(["cache", "dashboard"]).Order(), deployments.Keys.Order());
        foreach (var d in deployments.Values)
        {
            var pod = d.Spec.Template.Spec;
            var container = Assert.Single(pod.Containers);
            string what = $"{overlay}: deployment {d.Metadata.Name}";
            Assert.True(pod.SecurityContext?.RunAsNonRoot == true, $"{what} must set runAsNonRoot");
            Assert.True(pod.SecurityContext?.RunAsUser is > 0, $"{what} must run as a numeric non-root user");
            Assert.True(container.SecurityContext?.ReadOnlyRootFilesystem == true, $"{what} must have a read-only root filesystem");
            Assert.True(container.SecurityContext?.AllowPrivilegeEscalation == false, $"{what} must forbid privilege escalation");
            Assert.Equal(["ALL"], container.SecurityContext?.Capabilities?.Drop ?? []);
            Assert.False(pod.AutomountServiceAccountToken ?? true, $"{what} needs no service account token");
            foreach (string resource in new[] { "cpu", "memory" })
            {
                Assert.True(container.Resources?.Requests?.ContainsKey(resource) == true, $"{what} has no {resource} request");
                Assert.True(container.Resources?.Limits?.ContainsKey(resource) == true, $"{what} has no {resource} limit");
            }
            Assert.True(container.Resources!.Requests["memory"].ToDecimal() <= container.Resources.Limits["memory"].ToDecimal(), $"{what}: memory request above limit");
            Assert.True(container.Resources.Requests["cpu"].ToDecimal() <= container.Resources.Limits["cpu"].ToDecimal(), $"{what}: cpu request above limit");
            Assert.NotNull(container.ReadinessProbe);
            if (!DeployFiles.Services.ContainsKey(d.Metadata.Name)) continue;

            // The services: ServiceDefaults' /health (ready: every check) and /alive (live: the process answers).
            Assert.Equal("/health", container.ReadinessProbe.HttpGet?.Path);
            Assert.Equal("/alive", container.LivenessProbe?.HttpGet?.Path);
            Assert.Equal("http", container.ReadinessProbe.HttpGet!.Port.Value);
            Assert.Equal("http", container.LivenessProbe!.HttpGet!.Port.Value);
            var port = Assert.Single(container.Ports);
            Assert.Equal(("http", 8080), (port.Name, port.ContainerPort));
            Assert.Equal($"failuresynth-{d.Metadata.Name}:latest", container.Image);
            // Writable only where the service writes: the shared data root and /tmp.
            Assert.Equal(["/data", "/tmp"], container.VolumeMounts.Select(m => m.MountPath).Order());
            var data = pod.Volumes.Single(v => v.Name == container.VolumeMounts.Single(m => m.MountPath == "/data").Name);
            Assert.Equal("failuresynth-data", data.PersistentVolumeClaim?.ClaimName);
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Only_the_trainer_api_is_exposed_and_every_deployment_has_a_disruption_budget(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var exposed = objects.OfKind<V1Service>().Where(s => s.Spec.Type is not (null or "ClusterIP")).Select(s => s.Metadata.Name);
        Assert.Equal(["trainer"], exposed);
        var budgets = objects.OfKind<V1PodDisruptionBudget>().ToList();
        foreach (var d in objects.OfKind<V1Deployment>())
            Assert.Contains(budgets, b => b.Spec.Selector.MatchLabels.All(l => d.Spec.Template.Metadata.Labels.TryGetValue(l.Key, out var v) && v == l.Value));
        Assert.Contains(budgets, b => b.Spec.Selector.MatchLabels["app.kubernetes.io/name"] == "messaging");
        var data = objects.OfKind<V1PersistentVolumeClaim>().Single(p => p.Metadata.Name == "failuresynth-data");
        Assert.Equal(["ReadWriteMany"], data.Spec.AccessModes);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Network_policies_deny_by_default_and_open_only_the_system_paths(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var policies = objects.OfKind<V1NetworkPolicy>().ToDictionary(p => p.Metadata.Name);
        var deny = policies["default-deny"];
        Assert.Empty(deny.Spec.PodSelector.MatchLabels ?? new Dictionary<string, string>());
        Assert.Equal(["Egress", "Ingress"], deny.Spec.PolicyTypes.Order());
        Assert.Null(deny.Spec.Ingress);
        Assert.Null(deny.Spec.Egress);

        // Which pod may receive on which port, from the policies' ingress rules (DNS aside).
        var labelsOf = objects.OfKind<V1Deployment>().ToDictionary(d => d.Metadata.Name, d => d.Spec.Template.Metadata.Labels);
        labelsOf["messaging"] = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "messaging" };
        bool Selects(V1LabelSelector selector, string pod) =>
            (selector.MatchLabels ?? new Dictionary<string, string>()).All(l => labelsOf[pod].TryGetValue(l.Key, out var v) && v == l.Value);
        var open = new SortedSet<string>();
        foreach (var policy in policies.Values)
            foreach (string target in labelsOf.Keys.Where(p => Selects(policy.Spec.PodSelector, p)))
                foreach (var rule in policy.Spec.Ingress ?? [])
                {
                    var ports = (rule.Ports ?? []).Select(p => p.Port.Value).ToList();
                    var sources = rule.FromProperty is null ? ["anyone"]
                        : rule.FromProperty.SelectMany(peer => peer.NamespaceSelector is not null
                            ? [$"ns:{peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]}"]
                            : labelsOf.Keys.Where(p => Selects(peer.PodSelector, p)).Select(p => $"{p}")).ToList();
                    foreach (string source in sources) foreach (string port in ports) open.Add($"{source}->{target}:{port}");
                }
        string[] services = [.. DeployFiles.Services.Keys];
        var expected = new SortedSet<string>(services.SelectMany(s => new[] { $"{s}->messaging:5672", $"{s}->cache:6379", $"{s}->dashboard:18889" }))
        {
            "anyone->trainer:8080", "ns:keda->messaging:5672", "ns:rabbitmq-system->messaging:15672",
            "messaging->messaging:4369", "messaging->messaging:25672", "messaging->messaging:5672", "messaging->messaging:15672",
        };
        Assert.Equal(expected, open);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Secret_references_resolve_and_autoscaling_targets_the_fan_out_queues(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var secret = objects.OfKind<V1Secret>().Single();
        var keys = (secret.StringData?.Keys ?? []).Concat(secret.Data?.Keys ?? []).ToHashSet();
        foreach (var d in objects.OfKind<V1Deployment>())
            foreach (var env in d.Spec.Template.Spec.Containers.SelectMany(c => c.Env ?? []).Where(e => e.ValueFrom?.SecretKeyRef is not null))
            {
                Assert.Equal(secret.Metadata.Name, env.ValueFrom.SecretKeyRef.Name);
                Assert.True(keys.Contains(env.ValueFrom.SecretKeyRef.Key), $"{overlay}: {d.Metadata.Name} reads {env.ValueFrom.SecretKeyRef.Key}, which the Secret lacks");
            }

        var deployments = objects.OfKind<V1Deployment>().Select(d => d.Metadata.Name).ToHashSet();
        var auth = objects.OfKind<TriggerAuthentication>().Single();
        Assert.All(auth.Spec.SecretTargetRef, r => Assert.True(r.Name == secret.Metadata.Name && keys.Contains(r.Key)));
        var scaled = objects.OfKind<ScaledObject>().ToList();
        Assert.Equal(["imagesynth", "qualityfilter", "teacher"], scaled.Select(s => s.Spec.ScaleTargetRef.Name).Order());
        foreach (var s in scaled)
        {
            Assert.Contains(s.Spec.ScaleTargetRef.Name, deployments);
            var trigger = Assert.Single(s.Spec.Triggers);
            Assert.Equal("rabbitmq", trigger.Type);
            // The queue the service declares: EventBusOptions.QueueName = "failuresynth." + service name.
            Assert.Equal($"failuresynth.{s.Spec.ScaleTargetRef.Name}", trigger.Metadata["queueName"]);
            Assert.Equal("QueueLength", trigger.Metadata["mode"]);
            Assert.True(int.TryParse(trigger.Metadata["value"], out int target) && target > 0);
            Assert.Equal(auth.Metadata.Name, trigger.AuthenticationRef?.Name);
            Assert.True(s.Spec.MinReplicaCount >= 1 && s.Spec.MaxReplicaCount > s.Spec.MinReplicaCount);
        }

        var rabbit = objects.OfKind<RabbitmqCluster>().Single();
        Assert.Equal("messaging", rabbit.Metadata.Name);
        Assert.Equal(3, rabbit.Spec.Replicas);
        Assert.Contains("rabbitmq_management", rabbit.Spec.Rabbitmq!.AdditionalPlugins);
        Assert.Contains("default_queue_type = quorum", rabbit.Spec.Rabbitmq.AdditionalConfig);
    }

    [Fact]
    public void Dev_overlay_has_working_development_credentials_that_agree_with_each_other()
    {
        var objects = Manifests.Render("dev");
        var secret = objects.OfKind<V1Secret>().Single().Data.ToDictionary(kv => kv.Key, kv => System.Text.Encoding.UTF8.GetString(kv.Value));
        Assert.DoesNotContain(secret.Values, v => v.Contains("REPLACE", StringComparison.Ordinal));
        var amqp = new Uri(secret["ConnectionStrings__messaging"]);
        string config = objects.OfKind<RabbitmqCluster>().Single().Spec.Rabbitmq!.AdditionalConfig!;
        string[] userInfo = amqp.UserInfo.Split(':');
        Assert.Contains($"default_user = {userInfo[0]}", config);
        Assert.Contains($"default_pass = {userInfo[1]}", config);
        Assert.Equal($"cache:6379,password={secret["cache-password"]}", secret["ConnectionStrings__cache"]);
        Assert.Equal($"x-otlp-api-key={secret["otlp-api-key"]}", secret["OTEL_EXPORTER_OTLP_HEADERS"]);
        Assert.True(secret["FailureSynth__ApiKey"].Length >= 16, "the Trainer refuses API keys under 16 characters");
        Assert.Equal("NodePort", objects.OfKind<V1Service>().Single(s => s.Metadata.Name == "trainer").Spec.Type);
    }

    [Fact]
    public void Gpu_overlay_gives_a_gpu_to_the_student_and_the_trainer_only()
    {
        var withGpu = Manifests.Render("gpu").OfKind<V1Deployment>()
            .Where(d => d.Spec.Template.Spec.Containers.Any(c => c.Resources?.Limits?.ContainsKey("nvidia.com/gpu") == true))
            .ToList();
        Assert.Equal(["student", "trainer"], withGpu.Select(d => d.Metadata.Name).Order());
        Assert.All(withGpu, d =>
        {
            Assert.Equal("1", d.Spec.Template.Spec.Containers[0].Resources.Limits["nvidia.com/gpu"].ToString());
            Assert.Contains(d.Spec.Template.Spec.Tolerations, t => t.Key == "nvidia.com/gpu");
        });
        Assert.DoesNotContain(Manifests.Render("dev").OfKind<V1Deployment>(),
            d => d.Spec.Template.Spec.Containers.Any(c => c.Resources?.Limits?.ContainsKey("nvidia.com/gpu") == true));
    }
}
