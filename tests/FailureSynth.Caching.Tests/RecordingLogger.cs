using Microsoft.Extensions.Logging;

namespace FailureSynth.Caching.Tests;

/// <summary>An ILogger that keeps what it is given, so that tests can check what an outage logs.</summary>
public sealed class RecordingLogger : ILogger
{
    private readonly Lock _gate = new();
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get { lock (_gate) return [.. _entries]; }
    }

    public int Count(LogLevel level, string containing) =>
        Entries.Count(e => e.Level == level && e.Message.Contains(containing, StringComparison.Ordinal));

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_gate) _entries.Add((logLevel, formatter(state, exception)));
    }
}
