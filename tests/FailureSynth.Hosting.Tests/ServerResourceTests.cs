using FailureSynth.Hosting;

namespace FailureSynth.Hosting.Tests;

/// <summary>
/// AddRedis: a real local server started before the service that references it, injected as an
/// Aspire connection string, stopped after it. (AddRabbitMQ goes through the same server runtime;
/// its node takes about 10 s to start, too long for this suite.)
/// </summary>
public sealed class ServerResourceTests : IDisposable
{
    private readonly string _runDirectory = TestSupport.NewRunDirectory();

    public void Dispose() => TestSupport.DeleteRunDirectory(_runDirectory);

    [Fact]
    public async Task Redis_starts_before_the_service_that_references_it_and_stops_with_the_application()
    {
        IDistributedApplicationBuilder builder = DistributedApplication.CreateBuilder(TestSupport.Options(_runDirectory));
        IResourceBuilder<RedisResource> cache = builder.AddRedis("cache");
        builder.AddProject("teacher", TestSupport.TestServiceProject).WithHttpEndpoint().WithReference(cache);
        await using DistributedApplication app = builder.Build();

        await app.StartAsync();

        string connection = await TestSupport.GetStringAsync(app.GetEndpoint("teacher")!, "/env/ConnectionStrings__cache");
        Assert.Equal(app.GetConnectionString("cache"), connection);
        Assert.Matches(@"^127\.0\.0\.1:\d+,password=\S+$", connection);
        int redisPid = app.GetStatus("cache").ProcessId!.Value;
        Assert.True(ProcessTable.IsAlive(redisPid));
        Assert.Contains(app.GetLogs("cache"), l => l.Stream == LogStream.StandardOutput && l.Text.Contains("Ready to accept connections", StringComparison.Ordinal));

        await app.StopAsync();

        Assert.True(await ProcessTable.GoneAsync(redisPid), $"redis-server {redisPid} survived StopAsync");
        Assert.Equal(ReplicaState.Exited, app.GetStatus("cache").State);
    }

    /// <summary>A server whose launcher gives up, as redis-server does when its port is taken.</summary>
    private sealed class UnstartableServer(string name) : IServerResource
    {
        public string Name => name;

        public Task<IRunningServer> StartAsync(ServerStartContext context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("redis-server exited with code 1: Could not create server TCP listening socket.");
    }

    [Fact]
    public async Task Server_that_fails_to_start_fails_the_application_and_stops_what_already_runs()
    {
        IDistributedApplicationBuilder builder = DistributedApplication.CreateBuilder(TestSupport.Options(_runDirectory));
        var sleeper = builder.AddExecutable("sleeper", "/bin/sleep", ".", "300");
        // The server starts (and fails) only once the sleeper runs: otherwise, on a loaded machine, the sleeper may
        // not have a process yet when the failure stops everything, and would be listed as not started too.
        IResourceBuilder<UnstartableServer> cache = builder.AddResource(new UnstartableServer("cache")).WaitFor(sleeper);
        builder.AddExecutable("worker", "/bin/sleep", ".", "300").WithReference(cache);
        await using DistributedApplication app = builder.Build();
        int sleeperPid = 0;
        app.StatusChanged += s => sleeperPid = s.Resource == "sleeper" ? s.ProcessId ?? sleeperPid : sleeperPid;

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());

        Assert.Contains("Server 'cache' failed to start: redis-server exited with code 1", error.Message);
        Assert.True(error.Message.Contains("Not started because of that: worker", StringComparison.Ordinal), error.Message);
        Assert.Equal(ReplicaState.FailedToStart, app.GetStatus("cache").State);
        Assert.True(sleeperPid > 0);
        Assert.True(await ProcessTable.GoneAsync(sleeperPid));
    }
}
