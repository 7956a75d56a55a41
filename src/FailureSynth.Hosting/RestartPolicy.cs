namespace FailureSynth.Hosting;

/// <summary>When a process that exited on its own is started again.</summary>
public enum RestartMode
{
    /// <summary>Never: an exit is final.</summary>
    Never,

    /// <summary>Only after an exit with a non-zero code (a crash).</summary>
    OnFailure,

    /// <summary>After any exit the orchestrator did not ask for.</summary>
    Always,
}

/// <summary>
/// How a resource's crashed processes are restarted: the mode, how many restarts each replica gets
/// over the run, and the wait before each, doubling from <see cref="Backoff"/> up to <see cref="MaxBackoff"/>.
/// </summary>
public sealed record RestartPolicy(RestartMode Mode)
{
    public int MaxRestarts { get; init; } = 5;

    public TimeSpan Backoff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    public static RestartPolicy Never { get; } = new(RestartMode.Never) { MaxRestarts = 0 };

    /// <summary>Restart after a crash (non-zero exit); the default for every resource.</summary>
    public static RestartPolicy OnFailure(int maxRestarts = 5, TimeSpan? backoff = null) =>
        new(RestartMode.OnFailure) { MaxRestarts = maxRestarts, Backoff = backoff ?? TimeSpan.FromSeconds(1) };

    public static RestartPolicy Always(int maxRestarts = 5, TimeSpan? backoff = null) =>
        new(RestartMode.Always) { MaxRestarts = maxRestarts, Backoff = backoff ?? TimeSpan.FromSeconds(1) };

    /// <summary>Whether a process that exited with this code, after this many restarts, is started again.</summary>
    public bool ShouldRestart(int exitCode, int restartsSoFar) =>
        restartsSoFar < MaxRestarts && Mode switch
        {
            RestartMode.Always => true,
            RestartMode.OnFailure => exitCode != 0,
            _ => false,
        };

    /// <summary>The wait before restart number <paramref name="restart"/> (1 for the first).</summary>
    public TimeSpan DelayBefore(int restart)
    {
        double factor = Math.Pow(2, Math.Max(0, restart - 1));
        double milliseconds = Math.Min(Backoff.TotalMilliseconds * factor, MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(milliseconds);
    }

    internal string? Problem() =>
        MaxRestarts < 0 ? $"MaxRestarts is {MaxRestarts}; it must be zero or more"
        : Backoff < TimeSpan.Zero ? $"Backoff is {Backoff}; it must not be negative"
        : MaxBackoff < Backoff ? $"MaxBackoff ({MaxBackoff}) is below Backoff ({Backoff})"
        : null;
}
