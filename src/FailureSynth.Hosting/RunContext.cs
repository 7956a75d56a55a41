using System.Globalization;

namespace FailureSynth.Hosting;

/// <summary>What every resource runtime of one run shares: options, folders, listeners, the health prober and the other runtimes.</summary>
internal sealed class RunContext(
    DistributedApplicationOptions options,
    string runDirectory,
    Action<ReplicaStatus> statusChanged,
    Action<ResourceLogLine> logReceived) : IDisposable
{
    private readonly HttpClient _probe = new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
    })
    {
        Timeout = TimeSpan.FromSeconds(5),
    };

    private readonly Dictionary<IResource, ResourceRuntime> _runtimes = new(ReferenceEqualityComparer.Instance);

    public DistributedApplicationOptions Options { get; } = options;

    public string RunDirectory { get; } = runDirectory;

    public string LogDirectory { get; } = Path.Combine(runDirectory, "logs");

    public TextWriter? Echo { get; } = options.Echo is null ? null : TextWriter.Synchronized(options.Echo);

    public void Add(ResourceRuntime runtime) => _runtimes.Add(runtime.Resource, runtime);

    public ResourceRuntime Runtime(IResource resource) => _runtimes[resource];

    /// <summary>Opens <c>logs/&lt;fileName&gt;</c> for the lines of one replica (or of a resource's build).</summary>
    public ReplicaLog OpenLog(string resource, int replica, string fileName) =>
        new(resource, replica, Path.Combine(LogDirectory, fileName), Options.LogLinesKept, Echo, logReceived);

    public void Publish(ReplicaStatus status)
    {
        try
        {
            statusChanged(status);
        }
        catch (Exception e)
        {
            // A failing dashboard must not take the orchestrator down with it.
            Console.Error.WriteLine($"A StatusChanged listener failed: {e.Message}");
        }
    }

    /// <summary>GET /health: true on 200, else a description of what came back.</summary>
    public async Task<(bool Healthy, string? Problem)> ProbeAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var url = new Uri(endpoint, "/health");
        try
        {
            using HttpResponseMessage response = await _probe.GetAsync(url, cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? (true, null)
                : (false, $"GET {url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (HttpRequestException e)
        {
            return (false, $"GET {url} failed: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, string.Create(CultureInfo.InvariantCulture, $"GET {url} got no answer within {_probe.Timeout.TotalSeconds:0} s"));
        }
    }

    public void Dispose() => _probe.Dispose();
}

/// <summary>The running side of one resource: starts it, watches it, restarts it, stops it.</summary>
internal abstract class ResourceRuntime(IResourceBuilder<IResource> builder, RunContext context)
{
    public IResource Resource => builder.Resource;

    public string Name => builder.Resource.Name;

    public ResourceSettings Settings => builder.Settings;

    protected RunContext Context => context;

    /// <summary>Completes when the resource is ready for the resources that wait for it; faults if it failed to start.</summary>
    public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public abstract IReadOnlyList<ReplicaStatus> Status { get; }

    public abstract ReplicaLog Log(int replica);

    /// <summary>Starts every replica and returns once all are ready; throws a <see cref="DistributedApplicationException"/> saying why not.</summary>
    public abstract Task StartAsync(CancellationToken cancellationToken);

    public abstract Task StopAsync();

    /// <summary>SIGKILL to everything the resource runs, synchronously (for process-exit handlers).</summary>
    public abstract void Kill();

    public abstract void DisposeLogs();
}
