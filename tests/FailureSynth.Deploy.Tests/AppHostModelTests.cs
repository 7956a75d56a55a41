using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace FailureSynth.Deploy.Tests;

/// <summary>
/// Compose and Kubernetes against the AppHost's model: deploy/aspire-manifest.json must be what the AppHost
/// publishes now, and the services, images, variable names and values, and ports of Compose and of each overlay must
/// follow it, so that the AppHost, the manifest and the deployment files cannot drift apart.
/// </summary>
public sealed class AppHostModelTests
{
    /// <summary>Set at run time by Aspire's orchestrator (DCP), so a published manifest never lists them; deployments must.</summary>
    private static readonly HashSet<string> RuntimeVariables =
        ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"];

    /// <summary>Kubernetes only: the pod's name, for OTEL_RESOURCE_ATTRIBUTES' service.instance.id.</summary>
    private const string PodNameVariable = "POD_NAME";

    private const int ServicePort = 8080;

    public static TheoryData<string> Overlays => new() { "dev", "gpu" };

    private static readonly AspireManifest Manifest = AspireManifest.Load(AspireManifest.FilePath);

    [Fact]
    public void Checked_in_manifest_is_what_the_AppHost_publishes()
    {
        // Published beside the checked-in file, so that the projects' relative paths come out the same.
        string published = DeployFiles.Path("deploy", $".aspire-manifest-check-{Guid.NewGuid():N}.json");
        try
        {
            var (code, stdout, stderr) = DeployFiles.Run("dotnet",
                [AppHostAssembly(), "--operation=publish", "--publisher=manifest", $"--output-path={published}"],
                new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" });
            Assert.True(code == 0 && File.Exists(published), $"publishing the AppHost's manifest failed ({code}): {stdout}{stderr}");
            string expected = File.ReadAllText(published).ReplaceLineEndings("\n").TrimEnd();
            string actual = File.ReadAllText(AspireManifest.FilePath).ReplaceLineEndings("\n").TrimEnd();
            Assert.True(expected == actual,
                "deploy/aspire-manifest.json is not what FailureSynth.AppHost publishes now: regenerate it (docs/deploy.md, \"The Aspire manifest\") " +
                "and bring deploy/compose.yaml and deploy/k8s along with it.");
        }
        finally
        {
            File.Delete(published);
        }
    }

    [Fact]
    public void Trace_sampling_reaches_every_service_and_a_bad_share_is_refused_by_name()
    {
        string published = DeployFiles.Path("deploy", $".aspire-manifest-sampling-{Guid.NewGuid():N}.json");
        try
        {
            var environment = new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1", ["FailureSynth__TraceSampling"] = "0.05" };
            var (code, stdout, stderr) = DeployFiles.Run("dotnet", [AppHostAssembly(), "--operation=publish", "--publisher=manifest", $"--output-path={published}"], environment);
            Assert.True(code == 0 && File.Exists(published), $"publishing with trace sampling failed ({code}): {stdout}{stderr}");
            var manifest = AspireManifest.Load(published);
            Assert.Equal(DeployFiles.Services.Keys.Order(), manifest.Projects.Select(p => p.Name).Order());
            foreach (var project in manifest.Projects)
            {
                Assert.Equal("parentbased_traceidratio", project.Env["OTEL_TRACES_SAMPLER"]);
                Assert.Equal("0.05", project.Env["OTEL_TRACES_SAMPLER_ARG"]);
            }
            // Without the setting nothing is added: the checked-in manifest has no sampler.
            Assert.All(Manifest.Projects, p => Assert.False(p.Env.ContainsKey("OTEL_TRACES_SAMPLER")));

            foreach (string bad in new[] { "2", "0", "half" })
            {
                environment["FailureSynth__TraceSampling"] = bad;
                (code, stdout, stderr) = DeployFiles.Run("dotnet", [AppHostAssembly(), "--operation=publish", "--publisher=manifest", $"--output-path={published}"], environment);
                Assert.Equal(1, code);
                Assert.Contains($"FailureSynth:TraceSampling must be a number above 0 and at most 1, the share of traces kept (got '{bad}')", stderr, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(published);
        }
    }

    [Fact]
    public void Manifest_describes_containers_for_the_infrastructure_and_nothing_of_this_machine()
    {
        Assert.Equal(["cache", "messaging"], Manifest.Containers.Select(c => c.Name).Order());
        Assert.Equal(DeployFiles.Services.Keys.Order(), Manifest.Projects.Select(p => p.Name).Order());
        foreach (var project in Manifest.Projects)
        {
            Assert.Equal($"../services/{DeployFiles.Services[project.Name]}/{DeployFiles.Services[project.Name]}.csproj", project.Path);
            Assert.All(project.Env.Values, v => Assert.DoesNotContain(DeployFiles.Root, v));
            Assert.Equal("/data", project.Env["FailureSynth__DataRoot"]);
        }
        // The campaign API key is a secret parameter, never a value.
        var key = AspireManifest.Parse(Manifest.Resources["trainer"].Env["FailureSynth__ApiKey"]);
        Assert.NotNull(key);
        Assert.True(Manifest.Resources[key.Resource].IsSecretParameter);
    }

    [Fact]
    public void Compose_runs_the_manifests_resources_with_its_variables_images_and_ports()
    {
        var services = Compose.Services;
        foreach (var project in Manifest.Projects)
        {
            var service = (YamlMappingNode)services[project.Name];
            Assert.Equal($"localhost/failuresynth-{project.Name}:latest", service.Text("image"));
            var env = service.Variables();
            AssertSameNames(project, env.Keys, "deploy/compose.yaml");
            foreach (var (name, value) in project.Env)
                Assert.True(ComposeValueAgrees(value, env[name]), $"compose: {project.Name} sets {name}={env[name]}, which does not follow the AppHost's {value}");
        }
        var messaging = Manifest.Resources["messaging"];
        Assert.Equal(messaging.Image + "-management", ((YamlMappingNode)services["messaging"]).Text("image"));
        Assert.Equal(Manifest.Resources["cache"].Image, ((YamlMappingNode)services["cache"]).Text("image"));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Kubernetes_runs_the_manifests_resources_with_its_variables_images_and_ports(string overlay)
    {
        var objects = Manifests.Render(overlay);
        var deployments = objects.OfKind<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        var servicesByName = objects.OfKind<V1Service>().ToDictionary(s => s.Metadata.Name);
        foreach (var project in Manifest.Projects)
        {
            var container = deployments[project.Name].Spec.Template.Spec.Containers.Single();
            Assert.Equal($"failuresynth-{project.Name}:latest", container.Image);
            var env = container.Env.ToDictionary(e => e.Name);
            AssertSameNames(project, env.Keys.Where(n => n != PodNameVariable), $"overlay {overlay}");
            foreach (var (name, value) in project.Env)
            {
                var variable = env[name];
                var reference = AspireManifest.Parse(value);
                if (reference is not null && (reference.Property == "connectionString" || Manifest.Resources[reference.Resource].IsSecretParameter))
                {
                    // Connection strings and secrets come from the Secret, under the variable's own name.
                    Assert.True(variable.ValueFrom?.SecretKeyRef?.Key == name, $"{overlay}: {project.Name}'s {name} must come from the Secret's key {name}");
                    continue;
                }
                Assert.True(ComposeValueAgrees(value, variable.Value), $"{overlay}: {project.Name} sets {name}={variable.Value}, which does not follow the AppHost's {value}");
            }
            // The port the AppHost's http binding becomes: the container's, the Service's and the image's.
            Assert.Equal(("http", ServicePort), (container.Ports.Single().Name, container.Ports.Single().ContainerPort));
            Assert.Equal(ServicePort, servicesByName[project.Name].Spec.Ports.Single(p => p.Name == "http").Port);
            Assert.Contains($"EXPOSE {ServicePort}", File.ReadAllText(DeployFiles.Containerfile));
        }

        var rabbit = objects.OfKind<RabbitmqCluster>().Single();
        Assert.Equal(Manifest.Resources["messaging"].Image + "-management", rabbit.Spec.Image);
        Assert.Equal("messaging", rabbit.Metadata.Name);
        var cache = deployments["cache"].Spec.Template.Spec.Containers.Single();
        Assert.Equal(Manifest.Resources["cache"].Image, cache.Image);
        Assert.Equal(Manifest.Resources["cache"].Bindings["tcp"], servicesByName["cache"].Spec.Ports.Single().Port);
        Assert.Equal(Manifest.Resources["cache"].Bindings["tcp"], cache.Ports.Single().ContainerPort);

        if (overlay == "dev")
        {
            // The generated Secret's connection strings point at the AppHost's resources on their ports.
            var secret = objects.OfKind<V1Secret>().Single().Data.ToDictionary(kv => kv.Key, kv => System.Text.Encoding.UTF8.GetString(kv.Value));
            Assert.True(ComposeValueAgrees("{messaging.connectionString}", secret["ConnectionStrings__messaging"]));
            Assert.True(ComposeValueAgrees("{cache.connectionString}", secret["ConnectionStrings__cache"]));
        }
    }

    /// <summary>Same variable names as the AppHost gives the resource, plus exactly the run-time telemetry ones.</summary>
    private static void AssertSameNames(AspireResource project, IEnumerable<string> names, string where)
    {
        var actual = names.ToHashSet();
        var expected = project.Env.Keys.Concat(RuntimeVariables).ToHashSet();
        var missing = expected.Except(actual).Order().ToList();
        var extra = actual.Except(expected).Order().ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"{where}: {project.Name}'s variables differ from the AppHost's model (missing: {string.Join(", ", missing)}; not in the model: {string.Join(", ", extra)})");
    }

    /// <summary>Whether a deployment's value is what a manifest value becomes on a container network with services on port 8080.</summary>
    private static bool ComposeValueAgrees(string manifestValue, string? value)
    {
        if (value is null) return false;
        var reference = AspireManifest.Parse(manifestValue);
        if (reference is null) return manifestValue == value;
        var target = Manifest.Resources[reference.Resource];
        return reference.Property switch
        {
            "connectionString" when reference.Resource == "messaging" =>
                Uri.TryCreate(value, UriKind.Absolute, out var amqp) && amqp.Scheme == "amqp" && amqp.Host == "messaging" && amqp.Port == target.Bindings["tcp"] && amqp.UserInfo.Contains(':'),
            "connectionString" when reference.Resource == "cache" =>
                value.StartsWith($"cache:{target.Bindings["tcp"]},password=", StringComparison.Ordinal) && value.Length > "cache:6379,password=".Length,
            "bindings.http.targetPort" => value == ServicePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "bindings.http.url" => value == $"http://{reference.Resource}:{ServicePort}",
            "value" when target.IsSecretParameter => value == Compose.Secrets["FAILURESYNTH_API_KEY"],
            _ => false,
        };
    }

    /// <summary>The AppHost built in the same configuration as these tests (the project reference builds it first).</summary>
    private static string AppHostAssembly()
    {
        string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;   // bin/<configuration>/net10.0
        string path = DeployFiles.Path("FailureSynth.AppHost", "bin", configuration, "net10.0", "FailureSynth.AppHost.dll");
        Assert.True(File.Exists(path), $"{path} is missing: build FailureSynth.AppHost -c {configuration} (building this test project does).");
        return path;
    }
}
