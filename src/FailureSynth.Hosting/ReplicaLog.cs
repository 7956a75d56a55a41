namespace FailureSynth.Hosting;

/// <summary>
/// The output of one replica: every line goes to <c>&lt;runDir&gt;/logs/&lt;resource&gt;-&lt;replica&gt;.log</c>,
/// the last lines stay in memory for the dashboard and for error messages, and lines are echoed
/// with a <c>[resource-replica]</c> prefix when the options ask for it.
/// </summary>
internal sealed class ReplicaLog : IDisposable
{
    private readonly string _resource;
    private readonly int _replica;
    private readonly int _keep;
    private readonly TextWriter? _echo;
    private readonly Action<ResourceLogLine> _published;
    private readonly Queue<ResourceLogLine> _recent = new();
    private readonly StreamWriter _file;
    private readonly Lock _gate = new();

    public ReplicaLog(string resource, int replica, string path, int keep, TextWriter? echo, Action<ResourceLogLine> published)
    {
        _resource = resource;
        _replica = replica;
        _keep = keep;
        _echo = echo;
        _published = published;
        Path = path;
        _file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    public string Path { get; }

    public void Write(LogStream stream, string text)
    {
        var line = new ResourceLogLine(_resource, _replica, DateTimeOffset.UtcNow, stream, text);
        lock (_gate)
        {
            _recent.Enqueue(line);
            while (_recent.Count > _keep) _recent.Dequeue();
            try
            {
                _file.WriteLine(stream == LogStream.Orchestrator ? "--- " + text : text);
            }
            catch (ObjectDisposedException)
            {
                // A line that arrives after the run was closed still reaches memory and listeners.
            }
        }
        _echo?.WriteLine($"[{_resource}-{_replica}] {(stream == LogStream.Orchestrator ? "--- " : "")}{text}");
        _published(line);
    }

    public IReadOnlyList<ResourceLogLine> Snapshot()
    {
        lock (_gate) return [.. _recent];
    }

    /// <summary>The last lines the process wrote, for error messages.</summary>
    public string Tail(int lines)
    {
        ResourceLogLine[] recent;
        lock (_gate) recent = [.. _recent.Where(l => l.Stream != LogStream.Orchestrator).TakeLast(lines)];
        return recent.Length == 0 ? "    (no output)" : string.Join(Environment.NewLine, recent.Select(l => "    " + l.Text));
    }

    public void Dispose()
    {
        lock (_gate) _file.Dispose();
    }
}
