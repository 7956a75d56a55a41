using System.Text.RegularExpressions;

namespace FailureSynth.Hosting;

/// <summary>The builder <see cref="DistributedApplication.CreateBuilder(string[])"/> returns.</summary>
internal sealed partial class DistributedApplicationBuilder(DistributedApplicationOptions options) : IDistributedApplicationBuilder
{
    private readonly List<IResourceBuilder<IResource>> _resources = [];

    public DistributedApplicationOptions Options { get; } = options;

    public IReadOnlyList<IResourceBuilder<IResource>> Resources => _resources;

    public IResourceBuilder<T> AddResource<T>(T resource) where T : class, IResource
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (!ResourceName().IsMatch(resource.Name))
            throw new DistributedApplicationException(
                $"'{resource.Name}' cannot name a resource: use 1 to 64 letters, digits and hyphens, starting with a letter (e.g. 'teacher' or 'image-synth').");
        if (_resources.Any(r => string.Equals(r.Resource.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
            throw new DistributedApplicationException(
                $"A resource named '{resource.Name}' was already added; names must be unique (ignoring case, as configuration keys are).");
        if (resource is not (IProcessResource or IServerResource))
            throw new DistributedApplicationException(
                $"Resource '{resource.Name}' is a {resource.GetType().Name}, which the orchestrator cannot run; add a project, an executable or an {nameof(IServerResource)}.");
        var builder = new ResourceBuilder<T>(resource, this, new ResourceSettings());
        if (resource is ProjectResource) builder.Settings.ExportsTelemetry = true;
        _resources.Add(builder);
        return builder;
    }

    public DistributedApplication Build()
    {
        Options.Validate();
        foreach (IResourceBuilder<IResource> builder in _resources) Check(builder);
        IReadOnlyList<IResourceBuilder<IResource>> order = StartOrder.Sort(_resources);
        return new DistributedApplication(Options, order);
    }

    private void Check(IResourceBuilder<IResource> builder)
    {
        string name = builder.Resource.Name;
        ResourceSettings settings = builder.Settings;
        foreach (IResource other in settings.WaitsFor.Concat(settings.References))
        {
            if (!_resources.Any(r => ReferenceEquals(r.Resource, other)))
                throw new DistributedApplicationException(
                    $"Resource '{name}' depends on '{other.Name}', which was not added to this application; add it with the same builder first.");
        }
        foreach (IResource referenced in settings.References)
        {
            if (referenced is IResourceWithServiceDiscovery && Find(referenced).Settings.HttpEndpoint is null)
                throw new DistributedApplicationException(
                    $"Resource '{name}' references '{referenced.Name}', which has no HTTP endpoint to inject; call WithHttpEndpoint() on '{referenced.Name}'.");
        }
        if (settings.HttpEndpoint is { Port: { } port })
        {
            if (settings.Replicas > 1)
                throw new DistributedApplicationException(
                    $"Resource '{name}' has {settings.Replicas} replicas but the fixed port {port}, which only one process can listen on; call WithHttpEndpoint() without a port so each replica gets its own.");
            IResourceBuilder<IResource>? clash = _resources.FirstOrDefault(r => !ReferenceEquals(r, builder) && r.Settings.HttpEndpoint?.Port == port);
            if (clash is not null)
                throw new DistributedApplicationException(
                    $"Resources '{clash.Resource.Name}' and '{name}' both ask for port {port}; give one of them another port or none.");
        }
        if (settings.RestartPolicy.Problem() is { } problem)
            throw new DistributedApplicationException($"The restart policy of resource '{name}' cannot work: {problem}.");
    }

    private IResourceBuilder<IResource> Find(IResource resource) => _resources.First(r => ReferenceEquals(r.Resource, resource));

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9-]{0,63}$")]
    private static partial Regex ResourceName();
}

/// <summary>The handle returned for each added resource.</summary>
internal sealed record ResourceBuilder<T>(T Resource, IDistributedApplicationBuilder ApplicationBuilder, ResourceSettings Settings)
    : IResourceBuilder<T> where T : IResource;
