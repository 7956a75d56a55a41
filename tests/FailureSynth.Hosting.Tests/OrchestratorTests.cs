using System.Net.Sockets;
using System.Net;
using FailureSynth.Hosting;

namespace FailureSynth.Hosting.Tests;

/// <summary>The orchestrator running the real test service: start, inject, restart, stop, fail cleanly.</summary>
public sealed class OrchestratorTests : IDisposable
{
    private readonly string _runDirectory = TestSupport.NewRunDirectory();

    public void Dispose() => TestSupport.DeleteRunDirectory(_runDirectory);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Replicas_become_healthy_with_the_variables_aspire_injects_and_stop_leaves_no_process()
    {
        var cache = new SleepServer("cache", "127.0.0.1:6390,password=secret");
        IDistributedApplicationBuilder builder = DistributedApplication.CreateBuilder(TestSupport.Options(_runDirectory));
        IResourceBuilder<SleepServer> cacheResource = builder.AddResource(cache);
        IResourceBuilder<ProjectResource> backend = builder.AddProject("backend", TestSupport.TestServiceProject).WithHttpEndpoint();
        builder.AddProject("api", TestSupport.TestServiceProject)
            .WithHttpEndpoint()
            .WithReplicas(2)
            .WithReference(cacheResource)
            .WithReference(backend)
            .WaitFor(backend)
            .WithEnvironment("Probe__Value", "42");
        await using DistributedApplication app = builder.Build();
        Assert.Equal(["cache", "backend", "api"], app.Resources.Select(r => r.Name));

        await app.StartAsync();

        IReadOnlyList<ReplicaStatus> statuses = app.GetStatus();
        Assert.Equal(4, statuses.Count);
        Assert.All(statuses, s => Assert.Equal(ReplicaState.Healthy, s.State));
        Uri backendEndpoint = app.GetEndpoint("backend")!;
        string backendPid = await TestSupport.GetStringAsync(backendEndpoint, "/pid");
        var apiPids = new List<int>();
        for (int replica = 0; replica < 2; replica++)
        {
            Uri endpoint = app.GetEndpoint("api", replica)!;
            Task<string> Env(string name) => TestSupport.GetStringAsync(endpoint, "/env/" + name);
            Assert.Equal("api", await Env("OTEL_SERVICE_NAME"));
            Assert.Equal($"service.instance.id=api-{replica}", await Env("OTEL_RESOURCE_ATTRIBUTES"));
            Assert.Equal("127.0.0.1:6390,password=secret", await Env("ConnectionStrings__cache"));
            Assert.Equal(backendEndpoint.GetLeftPart(UriPartial.Authority), await Env("services__backend__http__0"));
            Assert.Equal(endpoint.GetLeftPart(UriPartial.Authority), await Env("ASPNETCORE_URLS"));
            Assert.Equal("42", await Env("Probe__Value"));
            // Service discovery through the injected variable, over the resilient HttpClient of ServiceDefaults.
            Assert.Equal(backendPid, await TestSupport.GetStringAsync(endpoint, "/call/backend"));
            apiPids.Add(int.Parse(await TestSupport.GetStringAsync(endpoint, "/pid")));
        }
        Assert.Equal(apiPids, statuses.Where(s => s.Resource == "api").Select(s => s.ProcessId!.Value));
        Assert.NotEqual(apiPids[0], apiPids[1]);
        Assert.Equal("127.0.0.1:6390,password=secret", app.GetConnectionString("cache"));
        int cachePid = cache.Running!.ProcessId;
        int[] pids = [.. apiPids, int.Parse(backendPid), cachePid];
        Assert.All(pids, pid => Assert.True(ProcessTable.IsAlive(pid)));
        // Each service replica leads its own process group.
        Assert.All(apiPids, pid => Assert.Contains(pid, ProcessTable.Group(pid)));

        await app.StopAsync();

        foreach (int pid in pids) Assert.True(await ProcessTable.GoneAsync(pid), $"process {pid} survived StopAsync");
        Assert.All(apiPids, pid => Assert.Empty(ProcessTable.Group(pid)));
        Assert.All(app.GetStatus(), s => Assert.Equal(ReplicaState.Exited, s.State));
        string log = await File.ReadAllTextAsync(Path.Combine(app.RunDirectory, "logs", "api-1.log"));
        Assert.Contains("Now listening on: " + app.GetEndpoint("api", 1)!.GetLeftPart(UriPartial.Authority), log);
        Assert.Contains(app.GetLogs("api", 1), l => l.Stream == LogStream.Orchestrator && l.Text.StartsWith("started process", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Crashed_replica_is_built_run_and_restarted_with_a_new_process_until_run_is_cancelled()
    {
        DistributedApplicationOptions options = TestSupport.Options(_runDirectory) with { SkipBuild = false };
        IDistributedApplicationBuilder builder = DistributedApplication.CreateBuilder(options);
        builder.AddProject("worker", TestSupport.TestServiceProject)
            .WithHttpEndpoint()
            .WithRestartPolicy(RestartPolicy.OnFailure(maxRestarts: 2, backoff: TimeSpan.FromMilliseconds(200)));
        await using DistributedApplication app = builder.Build();
        using var run = new CancellationTokenSource();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(80));

        Task running = app.RunAsync(run.Token);
        ReplicaStatus first = await app.WaitForStatusAsync("worker", 0, s => s.State == ReplicaState.Healthy, deadline.Token);
        int firstPid = first.ProcessId!.Value;
        Uri endpoint = app.GetEndpoint("worker")!;
        Assert.True(File.Exists(Path.Combine(app.RunDirectory, "logs", "worker-build.log")));

        Task<ReplicaStatus> restarting = app.WaitForStatusAsync("worker", 0, s => s.State == ReplicaState.Restarting, deadline.Token);
        Task<ReplicaStatus> healthyAgain = app.WaitForStatusAsync("worker", 0, s => s.State == ReplicaState.Healthy && s.ProcessId != firstPid, deadline.Token);
        Assert.Equal("crashing with exit code 3", await TestSupport.GetStringAsync(endpoint, "/crash"));

        Assert.Equal(3, (await restarting).ExitCode);
        ReplicaStatus second = await healthyAgain;
        Assert.Equal(1, second.Restarts);
        Assert.True(await ProcessTable.GoneAsync(firstPid));
        Assert.Equal(second.ProcessId.ToString(), await TestSupport.GetStringAsync(endpoint, "/pid"));

        await run.CancelAsync();
        await running.WaitAsync(Patience);
        Assert.True(await ProcessTable.GoneAsync(second.ProcessId!.Value));
        Assert.Equal(ReplicaState.Exited, app.GetStatus("worker").State);
    }

    [Fact]
    public async Task Failed_start_stops_everything_started_so_far_and_names_the_cause()
    {
        IDistributedApplicationBuilder builder = DistributedApplication.CreateBuilder(TestSupport.Options(_runDirectory));
        // A shell with a child of its own: stopping must reach the whole process group.
        builder.AddExecutable("sleepers", "/bin/sh", ".", "-c", "sleep 300 & sleep 300");
        IResourceBuilder<ProjectResource> broken = builder.AddProject("broken", TestSupport.TestServiceProject)
            .WithHttpEndpoint()
            .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "bogus");
        builder.AddProject("dependent", TestSupport.TestServiceProject).WithHttpEndpoint().WaitFor(broken);
        await using DistributedApplication app = builder.Build();
        int sleepersPid = 0;
        IReadOnlyList<int> sleepersGroupAtFailure = [];
        app.StatusChanged += status =>
        {
            if (status is { Resource: "sleepers", State: ReplicaState.Running }) sleepersPid = status.ProcessId!.Value;
            if (status is { Resource: "broken", State: ReplicaState.FailedToStart }) sleepersGroupAtFailure = ProcessTable.Group(sleepersPid);
        };

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());

        Assert.Contains("Resource 'broken' replica 0 exited with code", error.Message);
        Assert.Contains("OTEL_EXPORTER_OTLP_PROTOCOL is 'bogus'", error.Message);
        Assert.Contains("Not started because of that: dependent", error.Message);
        Assert.True(sleepersGroupAtFailure.Count >= 2, $"the shell and its background child were not both running: {sleepersGroupAtFailure.Count}");
        foreach (int pid in sleepersGroupAtFailure) Assert.True(await ProcessTable.GoneAsync(pid), $"process {pid} of 'sleepers' survived the failed start");
        Assert.Equal(ReplicaState.Waiting, app.GetStatus("dependent").State);
        Assert.Equal(ReplicaState.FailedToStart, app.GetStatus("broken").State);
    }

    [Fact]
    public async Task Resource_that_never_gets_healthy_fails_the_start_with_its_last_output()
    {
        DistributedApplicationOptions options = TestSupport.Options(_runDirectory) with { StartTimeout = TimeSpan.FromSeconds(2) };
        IDistributedApplicationBuilder builder = DistributedApplication.CreateBuilder(options);
        builder.AddExecutable("mute", "/bin/sh", ".", "-c", "echo warming up on port $PORT; exec sleep 300").WithHttpEndpoint(env: "PORT");
        await using DistributedApplication app = builder.Build();
        int pid = 0;
        app.StatusChanged += s => pid = s.ProcessId ?? pid;

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());

        Uri endpoint = app.GetEndpoint("mute")!;
        Assert.Contains("Resource 'mute' replica 0 did not become healthy within 2 s", error.Message);
        Assert.Contains($"GET {endpoint.GetLeftPart(UriPartial.Authority)}/health failed", error.Message);
        Assert.Contains($"warming up on port {endpoint.Port}", error.Message);
        Assert.True(await ProcessTable.GoneAsync(pid));
    }

    [Fact]
    public async Task Missing_project_file_is_named_before_anything_starts()
    {
        IDistributedApplicationBuilder builder = DistributedApplication.CreateBuilder(TestSupport.Options(_runDirectory));
        builder.AddExecutable("early", "/bin/sleep", ".", "300");
        builder.AddProject("ghost", "services/NoSuch/NoSuch.csproj");
        await using DistributedApplication app = builder.Build();

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());

        Assert.Contains($"project file {Path.Combine(TestSupport.RepositoryRoot, "services", "NoSuch", "NoSuch.csproj")} does not exist", error.Message);
        Assert.Equal(ReplicaState.Waiting, app.GetStatus("early").State);
    }

    [Fact]
    public async Task Port_in_use_is_reported_with_the_resource_that_wants_it()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        int port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        IDistributedApplicationBuilder builder = DistributedApplication.CreateBuilder(TestSupport.Options(_runDirectory));
        builder.AddProject("web", TestSupport.TestServiceProject).WithHttpEndpoint(port);
        await using DistributedApplication app = builder.Build();

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());

        Assert.Contains($"Port {port}, asked for by resource 'web', is already in use", error.Message);
    }

    [Fact]
    public async Task Failed_build_shows_the_compiler_errors()
    {
        string folder = _runDirectory;
        string project = Path.Combine(folder, "Broken", "Broken.csproj");
        Directory.CreateDirectory(Path.GetDirectoryName(project)!);
        await File.WriteAllTextAsync(project,
            "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>");
        await File.WriteAllTextAsync(Path.Combine(folder, "Broken", "Program.cs"), "System.Console.WriteLine(\"missing semicolon\")");
        DistributedApplicationOptions options = TestSupport.Options(Path.Combine(folder, "run")) with { SkipBuild = false, ProjectDirectory = folder };
        IDistributedApplicationBuilder builder = DistributedApplication.CreateBuilder(options);
        builder.AddProject("broken", "Broken/Broken.csproj");
        await using DistributedApplication app = builder.Build();

        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());

        Assert.Contains($"Resource 'broken': building {project} failed", error.Message);
        Assert.Contains("error CS1002", error.Message);
    }
}
