namespace FailureSynth.AppHost;

/// <summary>How every FailureSynth service is hosted: an HTTP endpoint, health-checked on /health, the shared data root, restarted after a crash, its traces sampled when chosen (<see cref="TraceSampling"/>).</summary>
public static class ServiceResourceExtensions
{
    public static IResourceBuilder<ProjectResource> AddService<TProject>(this IDistributedApplicationBuilder builder, string name, AppHostCommand command, string dataRoot, double? traceSampling = null)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>(name)
            .WithHttpEndpoint()
            // The services read ConnectionStrings__* (and the Trainer services__*) only; Aspire's other reference
            // variables (MESSAGING_HOST, CACHE_URI, STUDENT_HTTP, ...) would be unused names every deployment must carry.
            .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString | ReferenceEnvironmentInjectionFlags.ServiceDiscovery)
            .WithHttpHealthCheck("/health")
            .WithReplicas(command.ReplicasOf(name))
            .WithEnvironment("FailureSynth__DataRoot", dataRoot)
            .WithRestartOnCrash(maxRestarts: 10)
            .WithTraceSampling(traceSampling);

    /// <summary><c>.WithReference(x).WaitFor(x)</c> for each of <paramref name="dependencies"/>.</summary>
    public static IResourceBuilder<ProjectResource> Needs(this IResourceBuilder<ProjectResource> service, params IResourceBuilder<IResourceWithConnectionString>[] dependencies)
    {
        foreach (var dependency in dependencies) service.WithReference(dependency).WaitFor(dependency);
        return service;
    }

    /// <summary>
    /// The campaign API key: <paramref name="key"/> when running here; when publishing (<paramref name="key"/> null), the
    /// secret parameter <c>api-key</c>, which the deployment supplies (FAILURESYNTH_API_KEY, the Secret's FailureSynth__ApiKey).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithApiKey(this IResourceBuilder<ProjectResource> trainer, string? key) =>
        key is not null
            ? trainer.WithEnvironment("FailureSynth__ApiKey", key)
            : trainer.WithEnvironment("FailureSynth__ApiKey", trainer.ApplicationBuilder.AddParameter("api-key", secret: true));
}

/// <summary>Where things are inside the service images (services/*/Containerfile).</summary>
public static class ContainerPaths
{
    /// <summary>The shared data root's mount point, owned by the images' user 1654.</summary>
    public const string DataRoot = "/data";
}
