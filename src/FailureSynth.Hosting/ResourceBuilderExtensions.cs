namespace FailureSynth.Hosting;

/// <summary>
/// The builder methods of the application model, with Aspire's names and meaning, so that an
/// AppHost written against them reads like (and ports to) an Aspire AppHost.
/// </summary>
public static class ResourceBuilderExtensions
{
    /// <summary>Adds a .NET project; a relative path is resolved against the AppHost's project directory.</summary>
    public static IResourceBuilder<ProjectResource> AddProject(this IDistributedApplicationBuilder builder, string name, string projectPath)
    {
        if (string.IsNullOrWhiteSpace(projectPath))
            throw new DistributedApplicationException($"AddProject(\"{name}\") was given an empty project path; pass the path of the project's .csproj.");
        return builder.AddResource(new ProjectResource(name, projectPath));
    }

    /// <summary>Adds the project that <typeparamref name="TProject"/> describes (Aspire's generated <c>Projects.*</c> classes).</summary>
    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject(name, new TProject().ProjectPath);

    /// <summary>Adds a program started as <paramref name="command"/> with <paramref name="args"/> in <paramref name="workingDirectory"/>.</summary>
    public static IResourceBuilder<ExecutableResource> AddExecutable(
        this IDistributedApplicationBuilder builder, string name, string command, string workingDirectory, params string[] args)
    {
        if (string.IsNullOrWhiteSpace(command))
            throw new DistributedApplicationException($"AddExecutable(\"{name}\") was given an empty command; pass a program name or path.");
        return builder.AddResource(new ExecutableResource(name, command, workingDirectory, args));
    }

    /// <summary>Injects <c>ConnectionStrings__{name}</c> with the server's connection string; the server starts first.</summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<IServerResource> server)
        where T : IProcessResource
    {
        builder.Settings.AddReference(server.Resource);
        return builder;
    }

    /// <summary>Injects <c>services__{name}__http__{i}</c>, one per replica of the referenced resource, for service discovery.</summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResourceWithServiceDiscovery> service)
        where T : IProcessResource
    {
        if (ReferenceEquals(service.Resource, builder.Resource))
            throw new DistributedApplicationException($"Resource '{builder.Resource.Name}' cannot reference itself.");
        builder.Settings.AddReference(service.Resource);
        return builder;
    }

    /// <summary>Starts this resource only once <paramref name="dependency"/> is healthy (running, for resources without a health endpoint).</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency)
        where T : IResource
    {
        builder.Settings.AddWaitFor(dependency.Resource);
        return builder;
    }

    /// <summary>Runs <paramref name="replicas"/> processes of the resource, each with its own port and instance id.</summary>
    public static IResourceBuilder<T> WithReplicas<T>(this IResourceBuilder<T> builder, int replicas) where T : IProcessResource
    {
        if (replicas is < 1 or > 64)
            throw new DistributedApplicationException($"WithReplicas({replicas}) on '{builder.Resource.Name}': give between 1 and 64 replicas.");
        builder.Settings.Replicas = replicas;
        return builder;
    }

    /// <summary>Sets an environment variable on every replica; it overrides an injected variable of the same name.</summary>
    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, string value) where T : IProcessResource
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains('='))
            throw new DistributedApplicationException($"WithEnvironment on '{builder.Resource.Name}': '{name}' cannot name an environment variable; use a name without '=' such as Teacher__Model.");
        builder.Settings.AddEnvironment(name, value);
        return builder;
    }

    /// <summary>
    /// Gives the resource an HTTP endpoint on <paramref name="port"/>, or on a free port chosen at start.
    /// Projects get it as <c>ASPNETCORE_URLS</c>; executables get the port number in <paramref name="env"/>.
    /// </summary>
    public static IResourceBuilder<T> WithHttpEndpoint<T>(this IResourceBuilder<T> builder, int? port = null, string? env = null) where T : IProcessResource
    {
        if (port is < 1 or > 65535)
            throw new DistributedApplicationException($"WithHttpEndpoint on '{builder.Resource.Name}': port {port} is outside 1-65535; give a valid port or none for a free one.");
        builder.Settings.HttpEndpoint = new HttpEndpointSettings(port, env);
        return builder;
    }

    /// <summary>Adds command-line arguments after the resource's own.</summary>
    public static IResourceBuilder<T> WithArgs<T>(this IResourceBuilder<T> builder, params string[] args) where T : IProcessResource
    {
        builder.Settings.AddArgs(args);
        return builder;
    }

    /// <summary>Sets when the resource's crashed processes are started again (OnFailure, 5 restarts, by default).</summary>
    public static IResourceBuilder<T> WithRestartPolicy<T>(this IResourceBuilder<T> builder, RestartPolicy policy) where T : IResource
    {
        builder.Settings.RestartPolicy = policy;
        return builder;
    }

    /// <summary>Injects the OTEL_* variables into an executable too (projects always get them).</summary>
    public static IResourceBuilder<T> WithOtlpExporter<T>(this IResourceBuilder<T> builder) where T : IProcessResource
    {
        builder.Settings.ExportsTelemetry = true;
        return builder;
    }
}
