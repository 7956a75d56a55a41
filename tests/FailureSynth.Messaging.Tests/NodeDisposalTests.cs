using FailureSynth.Hosting.RabbitMQ;

namespace FailureSynth.Messaging.Tests;

/// <summary>Disposing a node stops it for good: a node of its own, since the test ends it.</summary>
public sealed class NodeDisposalTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"fs-messaging-disposal-{Environment.ProcessId}-{Guid.NewGuid():N}");
    private RabbitMqServerProcess _server = null!;

    public async Task InitializeAsync() => _server = await RabbitMqServerProcess.StartAsync(new RabbitMqServerOptions(_dataDirectory));

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Disposing_the_server_stops_it_gracefully_and_leaves_no_process_of_its_node_behind()
    {
        string node = _server.NodeName;
        int vm = _server.ProcessId;
        Assert.True(OsProcesses.IsRunning(vm));
        // The node may accept logins a moment before it logs that its start-up is complete.
        await Eventually.HoldsAsync(() => _server.RecentOutput.Any(line => line.Contains("Server startup complete", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the start-up line in the captured output");
        Assert.InRange(_server.RecentOutput.Count, 1, 200);
        var shutdown = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _server.OutputLine += shutdown.Enqueue;

        await _server.DisposeAsync();

        Assert.Contains(shutdown, line => line.Contains("SIGTERM received - shutting down", StringComparison.Ordinal));
        Assert.True(_server.HasExited);
        Assert.False(OsProcesses.IsRunning(vm));
        Assert.Empty(OsProcesses.Mentioning(node));
    }
}
