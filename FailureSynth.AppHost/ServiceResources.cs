namespace FailureSynth.AppHost;

/// <summary>How every FailureSynth service is hosted: an HTTP endpoint, health-checked on /health, the shared data root, restarted after a crash.</summary>
public static class ServiceResourceExtensions
{
    public static IResourceBuilder<ProjectResource> AddService<TProject>(this IDistributedApplicationBuilder builder, string name, AppHostCommand command, string dataRoot)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>(name)
            .WithHttpEndpoint()
            .WithHttpHealthCheck("/health")
            .WithReplicas(command.ReplicasOf(name))
            .WithEnvironment("FailureSynth__DataRoot", dataRoot)
            .WithRestartOnCrash(maxRestarts: 10);

    /// <summary><c>.WithReference(x).WaitFor(x)</c> for each of <paramref name="dependencies"/>.</summary>
    public static IResourceBuilder<ProjectResource> Needs(this IResourceBuilder<ProjectResource> service, params IResourceBuilder<IResourceWithConnectionString>[] dependencies)
    {
        foreach (var dependency in dependencies) service.WithReference(dependency).WaitFor(dependency);
        return service;
    }
}
