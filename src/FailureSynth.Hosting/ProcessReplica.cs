using System.Globalization;

namespace FailureSynth.Hosting;

/// <summary>
/// One replica of a process resource over the whole run: launches its process, follows its health,
/// restarts it after a crash as the restart policy says, and stops it (with everything it started).
/// </summary>
internal sealed class ProcessReplica
{
    private readonly ProcessResourceRuntime _owner;
    private readonly RunContext _context;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly List<ChildProcess> _children = [];
    private ChildProcess? _current;
    private bool _stopRequested;
    private Task _supervision = Task.CompletedTask;
    private ReplicaStatus _status;

    public ProcessReplica(ProcessResourceRuntime owner, RunContext context, int index, Uri? endpoint)
    {
        _owner = owner;
        _context = context;
        Index = index;
        Endpoint = endpoint;
        Log = context.OpenLog(owner.Name, index, $"{owner.Name}-{index}.log");
        _status = new ReplicaStatus(owner.Name, index, ReplicaState.Waiting, DateTimeOffset.UtcNow) { Endpoint = endpoint };
    }

    public int Index { get; }

    public Uri? Endpoint { get; }

    public ReplicaLog Log { get; }

    public ReplicaStatus Status
    {
        get
        {
            lock (_gate) return _status;
        }
    }

    /// <summary>Completes the first time the replica is healthy (running, without an endpoint); faults if it fails before.</summary>
    public Task Ready => _ready.Task;

    /// <summary>The last reason the health endpoint gave for not being healthy.</summary>
    public string? LastProblem { get; private set; }

    public void Start() => _supervision = Task.Run(SuperviseAsync);

    private async Task SuperviseAsync()
    {
        try
        {
            await SuperviseProcessesAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A bug here must surface as a failed replica, not as a silently dead supervisor.
            lock (_gate) SetLocked(ReplicaState.FailedToStart, _status.Restarts, detail: $"the orchestrator failed while supervising it: {e}");
            _ready.TrySetException(new ReplicaFailedException($"could not be supervised: {e.Message}"));
        }
    }

    private async Task SuperviseProcessesAsync()
    {
        int restarts = 0;
        while (true)
        {
            ChildProcess child;
            lock (_gate)
            {
                if (_stopRequested) return;
                SetLocked(ReplicaState.Starting, restarts);
                try
                {
                    child = ChildProcess.Start(_owner.LaunchFor(this), Log.Write);
                }
                catch (DistributedApplicationException e)
                {
                    SetLocked(ReplicaState.FailedToStart, restarts, detail: e.Message);
                    _ready.TrySetException(new ReplicaFailedException($"could not be started: {e.Message}"));
                    return;
                }
                _current = child;
                _children.Add(child);
                SetLocked(ReplicaState.Running, restarts, processId: child.ProcessId);
            }
            Log.Write(LogStream.Orchestrator, $"started process {child.ProcessId}");

            using (var probing = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                Task health = Endpoint is null ? MarkReadyWithoutProbe() : FollowHealthAsync(child, restarts, probing.Token);
                int exitCode = await child.Exited.ConfigureAwait(false);
                await probing.CancelAsync().ConfigureAwait(false);
                await health.ConfigureAwait(false);
                await child.DrainAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                Log.Write(LogStream.Orchestrator, $"process {child.ProcessId} exited with code {exitCode}");

                lock (_gate)
                {
                    _current = null;
                    if (_stopRequested)
                    {
                        SetLocked(ReplicaState.Exited, restarts, child.ProcessId, exitCode);
                        return;
                    }
                    if (!_ready.Task.IsCompleted)
                    {
                        // A crash before the first healthy answer is almost always configuration; retrying only delays the message.
                        string why = $"exited with code {exitCode} before it became healthy";
                        SetLocked(ReplicaState.FailedToStart, restarts, child.ProcessId, exitCode, why);
                        _ready.TrySetException(new ReplicaFailedException(why));
                        return;
                    }
                    RestartPolicy policy = _owner.Settings.RestartPolicy;
                    if (!policy.ShouldRestart(exitCode, restarts))
                    {
                        string? why = policy.Mode != RestartMode.Never && restarts >= policy.MaxRestarts ? $"not restarted: all {restarts} restarts used" : null;
                        SetLocked(ReplicaState.Exited, restarts, child.ProcessId, exitCode, why);
                        return;
                    }
                    restarts++;
                    SetLocked(ReplicaState.Restarting, restarts, child.ProcessId, exitCode);
                }
            }

            TimeSpan delay = _owner.Settings.RestartPolicy.DelayBefore(restarts);
            Log.Write(LogStream.Orchestrator, string.Create(CultureInfo.InvariantCulture, $"restart {restarts} of {_owner.Settings.RestartPolicy.MaxRestarts} in {delay.TotalSeconds:0.###} s"));
            try
            {
                await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_gate) SetLocked(ReplicaState.Exited, restarts, _status.ProcessId, _status.ExitCode);
                return;
            }
        }
    }

    private Task MarkReadyWithoutProbe()
    {
        _ready.TrySetResult();
        return Task.CompletedTask;
    }

    private async Task FollowHealthAsync(ChildProcess child, int restarts, CancellationToken cancellationToken)
    {
        bool healthy = false;
        while (!cancellationToken.IsCancellationRequested && !child.HasExited)
        {
            bool ok;
            string? problem;
            try
            {
                (ok, problem) = await _context.ProbeAsync(Endpoint!, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (cancellationToken.IsCancellationRequested || child.HasExited) break;
            lock (_gate)
            {
                LastProblem = problem;
                if (ok && !healthy) SetLocked(ReplicaState.Healthy, restarts, processId: child.ProcessId);
                else if (!ok && healthy) SetLocked(ReplicaState.Running, restarts, processId: child.ProcessId, detail: problem);
            }
            if (ok && !healthy) _ready.TrySetResult();
            healthy = ok;
            try
            {
                await Task.Delay(healthy ? _context.Options.HealthCheckInterval : _context.Options.HealthProbeInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Stops the replica for good: no more restarts; SIGTERM, grace, SIGKILL to its process group.</summary>
    public async Task StopAsync()
    {
        ChildProcess? child;
        lock (_gate)
        {
            _stopRequested = true;
            child = _current;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (child is not null) await child.StopAsync(_context.Options.StopTimeout).ConfigureAwait(false);
        await _supervision.ConfigureAwait(false);
        _ready.TrySetCanceled();
        lock (_gate)
        {
            foreach (ChildProcess process in _children) process.Dispose();
            _children.Clear();
        }
    }

    public void Kill()
    {
        ChildProcess? child;
        lock (_gate)
        {
            _stopRequested = true;
            child = _current;
        }
        child?.Kill();
    }

    private void SetLocked(ReplicaState state, int restarts, int? processId = null, int? exitCode = null, string? detail = null)
    {
        _status = _status with
        {
            State = state,
            Since = DateTimeOffset.UtcNow,
            ProcessId = processId,
            ExitCode = exitCode,
            Restarts = restarts,
            Detail = detail,
        };
        _context.Publish(_status);
    }
}

/// <summary>Why a replica did not get ready: the text completes "Resource 'x' replica i ...".</summary>
internal sealed class ReplicaFailedException(string message) : Exception(message);
