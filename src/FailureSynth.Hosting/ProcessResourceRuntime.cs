using System.Diagnostics;
using System.Globalization;

namespace FailureSynth.Hosting;

/// <summary>
/// Runs a project or executable: one <see cref="ProcessReplica"/> per replica, each with its own
/// port, environment and log, all launched from the same command.
/// </summary>
internal sealed class ProcessResourceRuntime : ResourceRuntime
{
    private const int TailLines = 20;

    private readonly ProcessReplica[] _replicas;
    private readonly string _command;
    private readonly IReadOnlyList<string> _args;
    private readonly string _workingDirectory;

    public ProcessResourceRuntime(IResourceBuilder<IResource> builder, RunContext context, string command, IReadOnlyList<string> args, string workingDirectory, IReadOnlyList<int> ports)
        : base(builder, context)
    {
        _command = command;
        _args = [.. args, .. builder.Settings.Args];
        _workingDirectory = workingDirectory;
        _replicas = [.. Enumerable.Range(0, builder.Settings.Replicas).Select(i =>
            new ProcessReplica(this, context, i, ports.Count > 0 ? new Uri($"http://127.0.0.1:{ports[i].ToString(CultureInfo.InvariantCulture)}") : null))];
    }

    public IReadOnlyList<ProcessReplica> Replicas => _replicas;

    public override IReadOnlyList<ReplicaStatus> Status => [.. _replicas.Select(r => r.Status)];

    public override ReplicaLog Log(int replica) => _replicas[replica].Log;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        foreach (ProcessReplica replica in _replicas) replica.Start();
        foreach (ProcessReplica replica in _replicas)
        {
            try
            {
                TimeSpan left = Context.Options.StartTimeout - clock.Elapsed;
                await replica.Ready.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                string problem = replica.LastProblem ?? "it stayed running without a health endpoint answer";
                throw new DistributedApplicationException(
                    string.Create(CultureInfo.InvariantCulture, $"Resource '{Name}' replica {replica.Index} did not become healthy within {Context.Options.StartTimeout.TotalSeconds:0} s ({problem}). ") +
                    $"Check its log {replica.Log.Path}; its last output lines were:{Environment.NewLine}{replica.Log.Tail(TailLines)}");
            }
            catch (ReplicaFailedException e)
            {
                throw new DistributedApplicationException(
                    $"Resource '{Name}' replica {replica.Index} {e.Message}. Check its log {replica.Log.Path}; its last output lines were:{Environment.NewLine}{replica.Log.Tail(TailLines)}");
            }
        }
    }

    public override Task StopAsync() => Task.WhenAll(_replicas.Select(r => r.StopAsync()));

    public override void Kill()
    {
        foreach (ProcessReplica replica in _replicas) replica.Kill();
    }

    public override void DisposeLogs()
    {
        foreach (ProcessReplica replica in _replicas) replica.Log.Dispose();
    }

    /// <summary>
    /// The command and full environment for one (re)start of a replica: the AppHost's environment,
    /// then the variables Aspire injects, then the resource's own <c>WithEnvironment</c> values.
    /// </summary>
    public ProcessLaunch LaunchFor(ProcessReplica replica)
    {
        Dictionary<string, string> environment = Environments.Inherited();
        // What the AppHost itself was started with must not leak into the services: its own URLs
        // would clash with theirs and its telemetry identity is not theirs.
        foreach (string name in environment.Keys.Where(IsHostSpecific).ToList()) environment.Remove(name);

        bool isProject = Resource is ProjectResource;
        if (isProject)
        {
            environment["DOTNET_ENVIRONMENT"] = Context.Options.EnvironmentName;
            environment["ASPNETCORE_ENVIRONMENT"] = Context.Options.EnvironmentName;
        }
        if (replica.Endpoint is { } endpoint)
        {
            if (isProject) environment["ASPNETCORE_URLS"] = endpoint.GetLeftPart(UriPartial.Authority);
            if (Settings.HttpEndpoint?.PortVariable is { } portVariable) environment[portVariable] = endpoint.Port.ToString(CultureInfo.InvariantCulture);
        }
        if (Settings.ExportsTelemetry)
        {
            environment["OTEL_SERVICE_NAME"] = Name;
            environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={Name}-{replica.Index.ToString(CultureInfo.InvariantCulture)}";
            if (Context.Options.OtlpEndpoint is { } otlp)
            {
                environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.AbsoluteUri.TrimEnd('/');
                environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = Context.Options.OtlpProtocol;
                // As Aspire does for local runs: export every second so the dashboard feels live.
                environment["OTEL_BSP_SCHEDULE_DELAY"] = "1000";
                environment["OTEL_BLRP_SCHEDULE_DELAY"] = "1000";
                environment["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
            }
        }
        foreach (IResource referenced in Settings.References)
        {
            switch (Context.Runtime(referenced))
            {
                case ServerRuntime server:
                    environment[$"ConnectionStrings__{referenced.Name}"] = server.ConnectionString
                        ?? throw new InvalidOperationException($"Server '{referenced.Name}' has no connection string although '{Name}' starts after it.");
                    break;
                case ProcessResourceRuntime service:
                    foreach (ProcessReplica target in service.Replicas)
                        environment[$"services__{referenced.Name}__http__{target.Index.ToString(CultureInfo.InvariantCulture)}"] = target.Endpoint!.GetLeftPart(UriPartial.Authority);
                    break;
            }
        }
        foreach ((string name, string value) in Settings.Environment) environment[name] = value;
        return new ProcessLaunch(_command, _args, _workingDirectory, environment);
    }

    private static bool IsHostSpecific(string name) =>
        name.StartsWith("OTEL_", StringComparison.Ordinal)
        || name is "ASPNETCORE_URLS" or "ASPNETCORE_HTTP_PORTS" or "ASPNETCORE_HTTPS_PORTS" or "HTTP_PORTS" or "HTTPS_PORTS";
}
