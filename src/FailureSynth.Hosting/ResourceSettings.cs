namespace FailureSynth.Hosting;

/// <summary>
/// How the orchestrator runs one resource: what the builder methods (<c>WithReference</c>,
/// <c>WaitFor</c>, <c>WithReplicas</c>, ...) recorded. Aspire keeps the same facts as annotations.
/// </summary>
public sealed class ResourceSettings
{
    private readonly List<IResource> _waitsFor = [];
    private readonly List<IResource> _references = [];
    private readonly List<KeyValuePair<string, string>> _environment = [];
    private readonly List<string> _args = [];

    /// <summary>Resources that must be healthy before this one starts.</summary>
    public IReadOnlyList<IResource> WaitsFor => _waitsFor;

    /// <summary>Resources whose address or connection string is injected into this one.</summary>
    public IReadOnlyList<IResource> References => _references;

    /// <summary>Variables set on every replica, after the injected ones (so they win).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Environment => _environment;

    /// <summary>Arguments added after the resource's own.</summary>
    public IReadOnlyList<string> Args => _args;

    public int Replicas { get; internal set; } = 1;

    public HttpEndpointSettings? HttpEndpoint { get; internal set; }

    public RestartPolicy RestartPolicy { get; internal set; } = RestartPolicy.OnFailure();

    /// <summary>Whether the OTEL_* variables are injected (always for projects, on request for executables).</summary>
    public bool ExportsTelemetry { get; internal set; }

    internal void AddWaitFor(IResource resource)
    {
        if (!_waitsFor.Contains(resource)) _waitsFor.Add(resource);
    }

    internal void AddReference(IResource resource)
    {
        if (!_references.Contains(resource)) _references.Add(resource);
    }

    internal void AddEnvironment(string name, string value) => _environment.Add(new(name, value));

    internal void AddArgs(IEnumerable<string> args) => _args.AddRange(args);
}

/// <summary>
/// An HTTP endpoint of a process resource: a fixed port, or a free one chosen at start. A project
/// gets it as <c>ASPNETCORE_URLS</c>; an executable gets the port in the variable named by
/// <see cref="PortVariable"/>. Its health is <c>GET /health</c> answering 200.
/// </summary>
public sealed record HttpEndpointSettings(int? Port, string? PortVariable);
