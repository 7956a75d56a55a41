namespace FailureSynth.Hosting;

/// <summary>Something the AppHost runs and other resources can depend on, known by a unique name.</summary>
public interface IResource
{
    string Name { get; }
}

/// <summary>A resource the orchestrator runs as OS processes it starts itself, one per replica.</summary>
public interface IProcessResource : IResource;

/// <summary>
/// A resource others can call over HTTP: a reference to it injects
/// <c>services__{name}__http__{i}</c>, the variables .NET service discovery reads.
/// </summary>
public interface IResourceWithServiceDiscovery : IResource;

/// <summary>The shape of the classes Aspire generates for an AppHost's project references.</summary>
public interface IProjectMetadata
{
    /// <summary>Path of the .csproj, absolute or relative to the AppHost's project directory.</summary>
    string ProjectPath { get; }
}

/// <summary>A .NET project, built once and run from its built assembly (<c>dotnet &lt;dll&gt;</c>).</summary>
public sealed record ProjectResource(string Name, string ProjectPath) : IProcessResource, IResourceWithServiceDiscovery;

/// <summary>Any program, started with its arguments in a working directory.</summary>
public sealed record ExecutableResource(string Name, string Command, string WorkingDirectory, IReadOnlyList<string> Args)
    : IProcessResource, IResourceWithServiceDiscovery;

/// <summary>
/// A server that knows how to start itself (Redis, RabbitMQ): the orchestrator starts it, injects
/// its connection string as <c>ConnectionStrings__{name}</c> into the resources that reference it,
/// watches it and stops it.
/// </summary>
public interface IServerResource : IResource
{
    /// <summary>Starts the server and returns once it accepts connections.</summary>
    Task<IRunningServer> StartAsync(ServerStartContext context, CancellationToken cancellationToken);
}

/// <summary>What a server gets to start with: its own data folder and a sink for its output lines.</summary>
public sealed record ServerStartContext(string ResourceName, string DataDirectory, Action<string> OutputLine);

/// <summary>A started server process as the orchestrator sees it.</summary>
public interface IRunningServer
{
    /// <summary>The value injected as <c>ConnectionStrings__{name}</c>.</summary>
    string ConnectionString { get; }

    int ProcessId { get; }

    bool HasExited { get; }

    /// <summary>Starts the server again after it exited, with the same ports and data.</summary>
    Task RestartAsync(CancellationToken cancellationToken);

    /// <summary>Asks the server to shut down cleanly and waits for it.</summary>
    Task StopAsync(CancellationToken cancellationToken);

    /// <summary>Ends the server at once (the orchestrator's last resort).</summary>
    void Kill();
}
