using System.Globalization;
using System.Runtime.InteropServices;
using FailureSynth.Hosting.Network;

namespace FailureSynth.Hosting;

/// <summary>
/// A built application model and its local orchestrator: starts the resources in dependency order
/// as processes in their own process groups, watches and restarts them, and stops all of them
/// (SIGTERM, grace, SIGKILL of each group) on <see cref="StopAsync"/>, Ctrl+C or a failed start.
/// Aspire's class of the same name is the model; the differences are that everything runs as local
/// processes and that states and logs are offered to our own dashboard through events.
/// </summary>
public sealed class DistributedApplication : IAsyncDisposable
{
    private readonly IReadOnlyList<IResourceBuilder<IResource>> _order;
    private readonly RunContext _context;
    private readonly List<ResourceRuntime> _runtimes = [];
    private readonly Lock _gate = new();
    private readonly EventHandler _killOnExit;
    private readonly UnhandledExceptionEventHandler _killOnCrash;
    private RunPhase _phase = RunPhase.Built;

    private enum RunPhase { Built, Starting, Started, Stopping, Stopped }

    internal DistributedApplication(DistributedApplicationOptions options, IReadOnlyList<IResourceBuilder<IResource>> order)
    {
        Options = options;
        _order = order;
        string runDirectory = options.RunDirectory ?? Path.Combine(
            Path.GetTempPath(), "failuresynth-apphost",
            DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        _context = new RunContext(options, Path.GetFullPath(runDirectory), s => StatusChanged?.Invoke(s), l => LogReceived?.Invoke(l));
        _killOnExit = (_, _) => KillEverything();
        _killOnCrash = (_, _) => KillEverything();
    }

    /// <summary>Creates a builder with options read from the command line (see <see cref="DistributedApplicationOptions.FromArgs"/>).</summary>
    public static IDistributedApplicationBuilder CreateBuilder(string[] args) => CreateBuilder(DistributedApplicationOptions.FromArgs(args));

    public static IDistributedApplicationBuilder CreateBuilder(DistributedApplicationOptions options) => new DistributedApplicationBuilder(options);

    public DistributedApplicationOptions Options { get; }

    /// <summary>Where this run's logs (<c>logs/</c>) and server data (<c>data/</c>) are.</summary>
    public string RunDirectory => _context.RunDirectory;

    /// <summary>The resources in the order they are started.</summary>
    public IReadOnlyList<IResource> Resources => [.. _order.Select(b => b.Resource)];

    /// <summary>Raised on every state change of every replica (on the orchestrator's threads: return quickly).</summary>
    public event Action<ReplicaStatus>? StatusChanged;

    /// <summary>Raised for every output line of every replica (on the orchestrator's threads: return quickly).</summary>
    public event Action<ResourceLogLine>? LogReceived;

    /// <summary>The state of every replica, resources in start order (all <see cref="ReplicaState.Waiting"/> before the start).</summary>
    public IReadOnlyList<ReplicaStatus> GetStatus() =>
        [.. _order.SelectMany(b => Enumerable.Range(0, ReplicaCount(b)).Select(i => GetStatus(b.Resource.Name, i)))];

    public ReplicaStatus GetStatus(string resource, int replica = 0) =>
        Replica(resource, replica, r => r.Status[replica], () => new ReplicaStatus(CanonicalName(resource), replica, ReplicaState.Waiting, DateTimeOffset.UtcNow));

    /// <summary>The last output lines of a replica kept in memory (all of them are in its log file).</summary>
    public IReadOnlyList<ResourceLogLine> GetLogs(string resource, int replica = 0) =>
        Replica(resource, replica, r => r.Log(replica).Snapshot(), () => []);

    /// <summary>The HTTP address of a replica once ports are chosen; null when the resource has no HTTP endpoint.</summary>
    public Uri? GetEndpoint(string resource, int replica = 0) =>
        Replica(resource, replica, r => r is ProcessResourceRuntime process ? process.Replicas[replica].Endpoint : null, () => null);

    /// <summary>The connection string of a started server resource; null before it started.</summary>
    public string? GetConnectionString(string resource) =>
        Replica(resource, 0, r => (r as ServerRuntime)?.ConnectionString, () => null);

    /// <summary>Waits until a replica's status satisfies <paramref name="condition"/> (for example, healthy again after a restart).</summary>
    public async Task<ReplicaStatus> WaitForStatusAsync(string resource, int replica, Func<ReplicaStatus, bool> condition, CancellationToken cancellationToken = default)
    {
        var reached = new TaskCompletionSource<ReplicaStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check(ReplicaStatus status)
        {
            if (string.Equals(status.Resource, resource, StringComparison.OrdinalIgnoreCase) && status.Replica == replica && condition(status))
                reached.TrySetResult(status);
        }
        StatusChanged += Check;
        try
        {
            Check(GetStatus(resource, replica));
            return await reached.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            StatusChanged -= Check;
        }
    }

    /// <summary>
    /// Builds the projects, chooses ports, then starts every resource once what it waits for is
    /// healthy, and returns when all are healthy. If anything fails, everything started so far is
    /// stopped and a <see cref="DistributedApplicationException"/> says what failed and why.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_phase != RunPhase.Built) throw new InvalidOperationException("This application was already started; build a new one to start again.");
            _phase = RunPhase.Starting;
        }
        Directory.CreateDirectory(_context.LogDirectory);
        AppDomain.CurrentDomain.ProcessExit += _killOnExit;
        AppDomain.CurrentDomain.UnhandledException += _killOnCrash;
        try
        {
            await PrepareAsync(cancellationToken).ConfigureAwait(false);
            await StartResourcesAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate) _phase = RunPhase.Started;
        }
        catch
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Starts the application and runs it until <paramref name="cancellationToken"/> fires or the
    /// AppHost gets SIGINT (Ctrl+C) or SIGTERM, then stops everything. A second Ctrl+C kills at once.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        int signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Interlocked.Increment(ref signals) == 1) shutdown.Cancel();
            else KillEverything();
        }
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            await StartAsync(shutdown.Token).ConfigureAwait(false);
            await Task.Delay(Timeout.Infinite, shutdown.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            // Asked to stop: fall through to the orderly stop.
        }
        finally
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops every resource: services first, all at once, then the servers they use. Each process
    /// group gets SIGTERM, <see cref="DistributedApplicationOptions.StopTimeout"/> to exit, then SIGKILL.
    /// Cancelling <paramref name="cancellationToken"/> kills what is left at once.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        ResourceRuntime[] runtimes;
        lock (_gate)
        {
            if (_phase is RunPhase.Built or RunPhase.Stopping or RunPhase.Stopped) return;
            _phase = RunPhase.Stopping;
            runtimes = [.. _runtimes];
        }
        using (cancellationToken.Register(KillEverything))
        {
            await Task.WhenAll(runtimes.Where(r => r is not ServerRuntime).Select(r => r.StopAsync())).ConfigureAwait(false);
            await Task.WhenAll(runtimes.OfType<ServerRuntime>().Reverse().Select(r => r.StopAsync())).ConfigureAwait(false);
        }
        foreach (ResourceRuntime runtime in runtimes) runtime.DisposeLogs();
        AppDomain.CurrentDomain.ProcessExit -= _killOnExit;
        AppDomain.CurrentDomain.UnhandledException -= _killOnCrash;
        lock (_gate) _phase = RunPhase.Stopped;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _context.Dispose();
    }

    /// <summary>Everything that must be true before the first process starts: built projects, found commands, chosen ports.</summary>
    private async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var builtProjects = new Dictionary<string, string>(StringComparer.Ordinal);
        var launches = new List<(IResourceBuilder<IResource> Builder, string Command, IReadOnlyList<string> Args, string WorkingDirectory)>();
        foreach (IResourceBuilder<IResource> builder in _order)
        {
            switch (builder.Resource)
            {
                case ProjectResource project:
                {
                    string projectFile = ProjectBuilder.ResolveProjectFile(project, Options.ProjectDirectory);
                    if (!builtProjects.TryGetValue(projectFile, out string? assembly))
                    {
                        using ReplicaLog buildLog = _context.OpenLog(project.Name, 0, $"{project.Name}-build.log");
                        assembly = await ProjectBuilder.BuildAsync(project.Name, projectFile, Options.Configuration, Options.SkipBuild, buildLog, cancellationToken).ConfigureAwait(false);
                        builtProjects[projectFile] = assembly;
                    }
                    launches.Add((builder, DotNetHost.Path, [assembly], Path.GetDirectoryName(projectFile)!));
                    break;
                }
                case ExecutableResource executable:
                {
                    string workingDirectory = Path.GetFullPath(executable.WorkingDirectory, Options.ProjectDirectory);
                    if (!Directory.Exists(workingDirectory))
                        throw new DistributedApplicationException(
                            $"Resource '{executable.Name}': working directory {workingDirectory} does not exist; pass an existing folder to AddExecutable.");
                    launches.Add((builder, ResolveCommand(executable, workingDirectory), executable.Args, workingDirectory));
                    break;
                }
            }
        }

        IReadOnlyDictionary<IResource, IReadOnlyList<int>> ports = ChoosePorts();
        lock (_gate)
        {
            foreach (IResourceBuilder<IResource> builder in _order)
            {
                ResourceRuntime runtime = builder.Resource is IServerResource
                    ? new ServerRuntime(builder, _context)
                    : launches.First(l => ReferenceEquals(l.Builder, builder)) is var launch
                        ? new ProcessResourceRuntime(builder, _context, launch.Command, launch.Args, launch.WorkingDirectory, ports.GetValueOrDefault(builder.Resource) ?? [])
                        : throw new InvalidOperationException("unreachable");
                _context.Add(runtime);
                _runtimes.Add(runtime);
            }
        }
    }

    private static string ResolveCommand(ExecutableResource executable, string workingDirectory)
    {
        string? path = executable.Command.Contains('/') || executable.Command.Contains(Path.DirectorySeparatorChar)
            ? Path.GetFullPath(executable.Command, workingDirectory)
            : Environments.FindOnPath(executable.Command);
        if (path is null || !File.Exists(path))
            throw new DistributedApplicationException(
                $"Resource '{executable.Name}': the command '{executable.Command}' was not found" +
                (path is null ? " on PATH" : $" at {path}") + "; install it or pass its full path to AddExecutable.");
        return path;
    }

    private Dictionary<IResource, IReadOnlyList<int>> ChoosePorts()
    {
        var ports = new Dictionary<IResource, IReadOnlyList<int>>(ReferenceEqualityComparer.Instance);
        var wanting = _order.Where(b => b.Settings.HttpEndpoint is not null).ToList();
        foreach (IResourceBuilder<IResource> builder in wanting.Where(b => b.Settings.HttpEndpoint!.Port is not null))
        {
            int port = builder.Settings.HttpEndpoint!.Port!.Value;
            if (!LoopbackPorts.IsFree(port))
                throw new DistributedApplicationException(
                    $"Port {port}, asked for by resource '{builder.Resource.Name}', is already in use by another process. " +
                    $"Stop that process, or give '{builder.Resource.Name}' another port (or none, for a free one).");
            ports[builder.Resource] = [port];
        }
        var free = wanting.Where(b => b.Settings.HttpEndpoint!.Port is null).ToList();
        IReadOnlyList<int> chosen = LoopbackPorts.FreePorts(free.Sum(b => b.Settings.Replicas));
        int next = 0;
        foreach (IResourceBuilder<IResource> builder in free)
        {
            ports[builder.Resource] = [.. chosen.Skip(next).Take(builder.Settings.Replicas)];
            next += builder.Settings.Replicas;
        }
        return ports;
    }

    /// <summary>Starts each resource as soon as what it needs is ready; the first failure cancels the rest.</summary>
    private async Task StartResourcesAsync(CancellationToken cancellationToken)
    {
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ResourceRuntime[] runtimes;
        lock (_gate) runtimes = [.. _runtimes];
        Task[] starts = [.. runtimes.Select(r => StartWhenReadyAsync(r, abandon))];
        try
        {
            await Task.WhenAll(starts).ConfigureAwait(false);
        }
        catch when (!cancellationToken.IsCancellationRequested)
        {
            var causes = starts.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions).OfType<DistributedApplicationException>().ToList();
            // Not ready and not the one that failed: whether its start was already cancelled when the failure
            // surfaced is a matter of timing, so readiness, not cancellation, decides.
            var abandoned = runtimes.Where(r => !r.Ready.Task.IsCompletedSuccessfully && r.Status.All(s => s.State != ReplicaState.FailedToStart)).ToList();
            // Never started = no replica ever got a process (its state may already read Exited after the stop).
            var neverStarted = abandoned.Where(r => r.Status.All(s => s.ProcessId is null)).Select(r => r.Name).ToList();
            var cutShort = abandoned.Select(r => r.Name).Except(neverStarted).ToList();
            string message = "The application could not start, so everything it had started was stopped." + Environment.NewLine +
                string.Join(Environment.NewLine, causes.Select(c => c.Message)) +
                (neverStarted.Count > 0 ? Environment.NewLine + $"Not started because of that: {string.Join(", ", neverStarted)}." : "") +
                (cutShort.Count > 0 ? Environment.NewLine + $"Stopped while starting because of that: {string.Join(", ", cutShort)}." : "");
            throw new DistributedApplicationException(message, causes.FirstOrDefault());
        }
    }

    private async Task StartWhenReadyAsync(ResourceRuntime runtime, CancellationTokenSource abandon)
    {
        try
        {
            foreach (IResource dependency in StartOrder.Dependencies(_order.First(b => ReferenceEquals(b.Resource, runtime.Resource))))
            {
                try
                {
                    await _context.Runtime(dependency).Ready.Task.WaitAsync(abandon.Token).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The dependency's own failure is reported once, by the dependency; this one just never starts.
                    runtime.Ready.TrySetCanceled();
                    throw new OperationCanceledException(abandon.Token);
                }
            }
            await runtime.StartAsync(abandon.Token).ConfigureAwait(false);
            runtime.Ready.TrySetResult();
        }
        catch (DistributedApplicationException e)
        {
            runtime.Ready.TrySetException(e);
            await abandon.CancelAsync().ConfigureAwait(false);
            throw;
        }
        catch (Exception) when (abandon.IsCancellationRequested || runtime.Ready.Task.IsCanceled)
        {
            // A dependency failed, or another resource did: this one is not started (or stopped while starting).
            runtime.Ready.TrySetCanceled();
            throw new OperationCanceledException(abandon.Token);
        }
        catch (Exception e)
        {
            runtime.Ready.TrySetException(e);
            await abandon.CancelAsync().ConfigureAwait(false);
            throw new DistributedApplicationException($"Resource '{runtime.Name}' failed to start: {e.Message}", e);
        }
    }

    /// <summary>Reads from a replica's runtime, or gives <paramref name="beforeStart"/> while the runtimes do not exist yet.</summary>
    private T Replica<T>(string resource, int replica, Func<ResourceRuntime, T> read, Func<T> beforeStart)
    {
        IResourceBuilder<IResource> builder = _order.FirstOrDefault(b => string.Equals(b.Resource.Name, resource, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException(
                $"There is no resource named '{resource}'; the resources are {string.Join(", ", _order.Select(b => b.Resource.Name))}.", nameof(resource));
        int replicas = ReplicaCount(builder);
        if (replica < 0 || replica >= replicas)
            throw new ArgumentOutOfRangeException(nameof(replica), replica, $"Resource '{builder.Resource.Name}' has {replicas} replica(s), numbered from 0.");
        ResourceRuntime? runtime;
        lock (_gate) runtime = _runtimes.FirstOrDefault(r => ReferenceEquals(r.Resource, builder.Resource));
        return runtime is null ? beforeStart() : read(runtime);
    }

    private static int ReplicaCount(IResourceBuilder<IResource> builder) => builder.Resource is IServerResource ? 1 : builder.Settings.Replicas;

    private string CanonicalName(string resource) =>
        _order.First(b => string.Equals(b.Resource.Name, resource, StringComparison.OrdinalIgnoreCase)).Resource.Name;

    /// <summary>SIGKILL to every process group and server, synchronously: for process exit, a crash or a second Ctrl+C.</summary>
    private void KillEverything()
    {
        ResourceRuntime[] runtimes;
        lock (_gate) runtimes = [.. _runtimes];
        foreach (ResourceRuntime runtime in runtimes) runtime.Kill();
    }
}
