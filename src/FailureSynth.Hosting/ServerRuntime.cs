using System.Globalization;

namespace FailureSynth.Hosting;

/// <summary>
/// Runs an <see cref="IServerResource"/>: starts it (ready once it accepts connections), watches its
/// process, restarts it per the restart policy and stops it after the services that use it.
/// </summary>
internal sealed class ServerRuntime(IResourceBuilder<IResource> builder, RunContext context) : ResourceRuntime(builder, context)
{
    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(500);

    private readonly ReplicaLog _log = context.OpenLog(builder.Resource.Name, 0, $"{builder.Resource.Name}-0.log");
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private IRunningServer? _server;
    private bool _stopRequested;
    private Task _watch = Task.CompletedTask;
    private ReplicaStatus _status = new(builder.Resource.Name, 0, ReplicaState.Waiting, DateTimeOffset.UtcNow);

    /// <summary>The connection string once started; null before.</summary>
    public string? ConnectionString { get; private set; }

    public override IReadOnlyList<ReplicaStatus> Status
    {
        get
        {
            lock (_gate) return [_status];
        }
    }

    public override ReplicaLog Log(int replica) => _log;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var server = (IServerResource)Resource;
        string dataDirectory = Path.Combine(Context.RunDirectory, "data", Name);
        Directory.CreateDirectory(dataDirectory);
        Set(ReplicaState.Starting, 0);
        _log.Write(LogStream.Orchestrator, $"starting server (data in {dataDirectory})");
        IRunningServer running;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Context.Options.StartTimeout);
            running = await server.StartAsync(new ServerStartContext(Name, dataDirectory, line => _log.Write(LogStream.StandardOutput, line)), timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Set(ReplicaState.FailedToStart, 0, detail: "did not start in time");
            throw new DistributedApplicationException(
                string.Create(CultureInfo.InvariantCulture, $"Server '{Name}' did not start within {Context.Options.StartTimeout.TotalSeconds:0} s; raise --start-timeout if it is only slow."));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Set(ReplicaState.FailedToStart, 0, detail: e.Message);
            // The launcher's own message carries the output the server wrote while failing.
            throw new DistributedApplicationException($"Server '{Name}' failed to start: {e.Message}", e);
        }
        bool stopRequested;
        lock (_gate)
        {
            _server = running;
            ConnectionString = running.ConnectionString;
            stopRequested = _stopRequested;
        }
        if (stopRequested)
        {
            // StopAsync ran while the server was starting and found nothing to stop.
            running.Kill();
            throw new OperationCanceledException($"Server '{Name}' was stopped while it started.");
        }
        Set(ReplicaState.Healthy, 0, running.ProcessId);
        _log.Write(LogStream.Orchestrator, $"started process {running.ProcessId}");
        _watch = Task.Run(() => WatchAsync(running));
    }

    private async Task WatchAsync(IRunningServer running)
    {
        int restarts = 0;
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                await Task.Delay(WatchInterval, _stopping.Token).ConfigureAwait(false);
                if (!running.HasExited) continue;
                if (_stopping.IsCancellationRequested) break;
                _log.Write(LogStream.Orchestrator, $"process {running.ProcessId} exited");
                RestartPolicy policy = Settings.RestartPolicy;
                // A server's exit code belongs to its launcher; any exit it did not ask for counts as a failure.
                if (!policy.ShouldRestart(exitCode: 1, restarts))
                {
                    Set(ReplicaState.Exited, restarts, running.ProcessId, detail: "exited and is not restarted");
                    return;
                }
                restarts++;
                Set(ReplicaState.Restarting, restarts, running.ProcessId);
                await Task.Delay(policy.DelayBefore(restarts), _stopping.Token).ConfigureAwait(false);
                await running.RestartAsync(_stopping.Token).ConfigureAwait(false);
                ConnectionString = running.ConnectionString;
                Set(ReplicaState.Healthy, restarts, running.ProcessId);
                _log.Write(LogStream.Orchestrator, $"restarted as process {running.ProcessId}");
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        catch (Exception e)
        {
            Set(ReplicaState.FailedToStart, restarts, detail: $"restart failed: {e.Message}");
            _log.Write(LogStream.Orchestrator, $"restart failed: {e.Message}");
        }
    }

    public override async Task StopAsync()
    {
        IRunningServer? server;
        lock (_gate)
        {
            _stopRequested = true;
            server = _server;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _watch.ConfigureAwait(false);
        if (server is null) return;
        using var grace = new CancellationTokenSource(Context.Options.StopTimeout);
        try
        {
            await server.StopAsync(grace.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log.Write(LogStream.Orchestrator, $"clean stop failed ({e.Message}); killing it");
        }
        finally
        {
            // Whatever the clean stop did, nothing of the server may outlive the AppHost.
            server.Kill();
        }
        Set(ReplicaState.Exited, _status.Restarts, server.ProcessId);
    }

    public override void Kill()
    {
        IRunningServer? server;
        lock (_gate)
        {
            _stopRequested = true;
            server = _server;
        }
        server?.Kill();
    }

    public override void DisposeLogs() => _log.Dispose();

    private void Set(ReplicaState state, int restarts, int? processId = null, string? detail = null)
    {
        lock (_gate)
        {
            _status = _status with { State = state, Since = DateTimeOffset.UtcNow, Restarts = restarts, ProcessId = processId, Detail = detail };
            Context.Publish(_status);
        }
    }
}
