using YamlDotNet.RepresentationModel;

namespace FailureSynth.Deploy.Tests;

/// <summary>deploy/compose.yaml: valid for a compose tool, health-gated, locked down, and complete.</summary>
public sealed class ComposeTests
{
    [Fact]
    public void Compose_file_validates_and_runs_the_services_with_rabbitmq_redis_and_the_dashboard()
    {
        var services = Compose.Services;
        string[] names = services.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).Order().ToArray();
        Assert.Equal(DeployFiles.Services.Keys.Concat(["messaging", "cache", "dashboard"]).Order(), names);
        var messaging = (YamlMappingNode)services["messaging"];
        Assert.Matches(@"rabbitmq:[0-9.]+-management$", messaging.Text("image"));
        Assert.Contains(messaging.Get("volumes").Strings(), v => v.Contains("/etc/rabbitmq/conf.d/", StringComparison.Ordinal));
        Assert.Contains("default_queue_type = quorum", File.ReadAllText(DeployFiles.Path("deploy", "rabbitmq", "20-failuresynth.conf")));
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspire-dashboard:", ((YamlMappingNode)services["dashboard"]).Text("image"));
        Assert.Contains("redis-server", ((YamlMappingNode)services["cache"]).Get("command").Strings());
    }

    [Fact]
    public void Services_start_after_healthy_dependencies_with_read_only_roots_and_a_shared_data_volume()
    {
        var services = Compose.Services;
        foreach (string name in DeployFiles.Services.Keys)
        {
            var service = (YamlMappingNode)services[name];
            Assert.Equal("true", service.Text("read_only"));
            Assert.Contains("/tmp", service.Get("tmpfs").Strings());
            Assert.Contains(service.Get("volumes").Strings(), v => v.StartsWith("data:/data", StringComparison.Ordinal));
            Assert.Equal("/data", service.Variables()["FailureSynth__DataRoot"]);
            var dependsOn = (YamlMappingNode)service["depends_on"];
            foreach (string dependency in new[] { "messaging", "cache" })
                Assert.Equal("service_healthy", ((YamlMappingNode)dependsOn[dependency]).Text("condition"));
            var health = (YamlMappingNode)service["healthcheck"];
            Assert.Equal(["CMD", "/usr/local/bin/failuresynth-healthcheck", "8080", "/health"], health.Get("test").Strings());
        }
        // As in the AppHost, the Trainer waits for the services it sends work to.
        var trainerDependsOn = (YamlMappingNode)((YamlMappingNode)services["trainer"])["depends_on"];
        foreach (string name in DeployFiles.Services.Keys.Where(n => n != "trainer"))
            Assert.Equal("service_healthy", ((YamlMappingNode)trainerDependsOn[name]).Text("condition"));
        foreach (string infrastructure in new[] { "messaging", "cache" })
            Assert.NotNull(((YamlMappingNode)services[infrastructure]).Get("healthcheck"));
    }

    [Fact]
    public void Only_the_trainer_api_and_the_dashboard_ui_are_published_beyond_localhost()
    {
        var published = new List<string>();
        foreach (var (key, value) in Compose.Services.Children)
            if (((YamlMappingNode)value).Get("ports") is YamlSequenceNode ports)
                foreach (var port in ports.Children)
                {
                    // docker-compose 1.29 writes a port bound to one address in the short form, HOST_IP:PUBLISHED:TARGET/PROTOCOL.
                    var (hostIp, target) = port is YamlMappingNode mapping
                        ? (mapping.Text("host_ip"), mapping.Text("target"))
                        : (((YamlScalarNode)port).Value!.Split(':')[0], ((YamlScalarNode)port).Value!.Split(':')[^1].Split('/')[0]);
                    if (hostIp is null or "0.0.0.0") published.Add($"{((YamlScalarNode)key).Value}:{target}");
                }
        Assert.Equal(["dashboard:18888", "trainer:8080"], published.Order());
    }

    [Fact]
    public void A_missing_secret_fails_validation_and_names_the_variable()
    {
        var withoutRabbit = Compose.Secrets.Where(kv => kv.Key != "RABBITMQ_PASSWORD").ToDictionary();
        var (code, _, stderr) = Compose.Config(withoutRabbit);
        Assert.NotEqual(0, code);
        Assert.Contains("RABBITMQ_PASSWORD", stderr);
    }

    [Fact]
    public void Secrets_reach_both_ends_of_each_connection()
    {
        var services = Compose.Services;
        var student = ((YamlMappingNode)services["student"]).Variables();
        Assert.Equal($"amqp://failuresynth:{Compose.Secrets["RABBITMQ_PASSWORD"]}@messaging:5672", student["ConnectionStrings__messaging"]);
        Assert.Equal($"cache:6379,password={Compose.Secrets["REDIS_PASSWORD"]}", student["ConnectionStrings__cache"]);
        Assert.Equal($"x-otlp-api-key={Compose.Secrets["OTLP_API_KEY"]}", student["OTEL_EXPORTER_OTLP_HEADERS"]);
        var rabbit = ((YamlMappingNode)services["messaging"]).Variables();
        Assert.Equal(("failuresynth", Compose.Secrets["RABBITMQ_PASSWORD"]), (rabbit["RABBITMQ_DEFAULT_USER"], rabbit["RABBITMQ_DEFAULT_PASS"]));
        Assert.Contains(Compose.Secrets["REDIS_PASSWORD"], ((YamlMappingNode)services["cache"]).Get("command").Strings());
        Assert.Equal(Compose.Secrets["OTLP_API_KEY"], ((YamlMappingNode)services["dashboard"]).Variables()["DASHBOARD__OTLP__PRIMARYAPIKEY"]);
        Assert.Equal(Compose.Secrets["FAILURESYNTH_API_KEY"], ((YamlMappingNode)services["trainer"]).Variables()["FailureSynth__ApiKey"]);
    }
}
