namespace FailureSynth.Hosting;

/// <summary>The life stages of one replica (one OS process slot) of a resource.</summary>
public enum ReplicaState
{
    /// <summary>Not started yet: waiting for the resources it depends on.</summary>
    Waiting,

    /// <summary>Its process is being launched.</summary>
    Starting,

    /// <summary>The process runs; it has no health endpoint, or has not answered it (yet, or any more).</summary>
    Running,

    /// <summary>The process runs and its health endpoint answers 200.</summary>
    Healthy,

    /// <summary>The process exited; it will be started again after the restart policy's wait.</summary>
    Restarting,

    /// <summary>The process exited and stays down (see <see cref="ReplicaStatus.ExitCode"/>).</summary>
    Exited,

    /// <summary>It could not be started or never became healthy; see <see cref="ReplicaStatus.Detail"/>.</summary>
    FailedToStart,
}

/// <summary>A replica's state at one moment, as a dashboard shows it.</summary>
public sealed record ReplicaStatus(string Resource, int Replica, ReplicaState State, DateTimeOffset Since)
{
    public int? ProcessId { get; init; }

    public int? ExitCode { get; init; }

    /// <summary>How many times the orchestrator has restarted this replica.</summary>
    public int Restarts { get; init; }

    /// <summary>The replica's HTTP address, when the resource has an HTTP endpoint.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>Why it is not healthy, or why it failed, in words.</summary>
    public string? Detail { get; init; }
}

/// <summary>One line a replica wrote to stdout or stderr (or the orchestrator wrote about it).</summary>
public sealed record ResourceLogLine(string Resource, int Replica, DateTimeOffset Time, LogStream Stream, string Text);

/// <summary>Where a log line came from.</summary>
public enum LogStream
{
    StandardOutput,
    StandardError,

    /// <summary>A line the orchestrator itself wrote about the replica (started, exited, restarting).</summary>
    Orchestrator,
}
