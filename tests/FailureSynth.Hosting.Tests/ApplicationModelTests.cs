using FailureSynth.Hosting;

namespace FailureSynth.Hosting.Tests;

/// <summary>The application model: names, references, ordering, cycles, options and restart policy, without starting anything.</summary>
public sealed class ApplicationModelTests
{
    private static IDistributedApplicationBuilder NewBuilder() =>
        DistributedApplication.CreateBuilder(TestSupport.Options(Path.Combine(Path.GetTempPath(), "failuresynth-hosting-tests", "model")));

    private sealed class TeacherProject : IProjectMetadata
    {
        public string ProjectPath => "services/FailureSynth.Teacher/FailureSynth.Teacher.csproj";
    }

    [Fact]
    public void Dependency_cycle_is_an_error_that_names_the_cycle()
    {
        IDistributedApplicationBuilder builder = NewBuilder();
        IResourceBuilder<ExecutableResource> a = builder.AddExecutable("a", "/bin/true", ".");
        IResourceBuilder<ExecutableResource> b = builder.AddExecutable("b", "/bin/true", ".").WaitFor(a);
        builder.AddExecutable("c", "/bin/true", ".");
        a.WaitFor(b);

        var error = Assert.Throws<DistributedApplicationException>(() => builder.Build());

        Assert.Contains("cycle: a -> b -> a", error.Message);
    }

    [Fact]
    public void Cycle_through_a_server_reference_is_an_error_too()
    {
        IDistributedApplicationBuilder builder = NewBuilder();
        IResourceBuilder<SleepServer> cache = builder.AddResource(new SleepServer("cache", "x"));
        IResourceBuilder<ExecutableResource> app = builder.AddExecutable("app", "/bin/true", ".").WithReference(cache);
        cache.WaitFor(app);

        var error = Assert.Throws<DistributedApplicationException>(() => builder.Build());

        Assert.Contains("cycle: cache -> app -> cache", error.Message);
    }

    [Fact]
    public void Resources_start_after_what_they_wait_for_and_the_servers_they_use_but_services_may_call_each_other()
    {
        IDistributedApplicationBuilder builder = NewBuilder();
        IResourceBuilder<ExecutableResource> api = builder.AddExecutable("api", "/bin/true", ".").WithHttpEndpoint();
        IResourceBuilder<ExecutableResource> teacher = builder.AddExecutable("teacher", "/bin/true", ".").WithHttpEndpoint();
        IResourceBuilder<SleepServer> messaging = builder.AddResource(new SleepServer("messaging", "amqp://x"));
        IResourceBuilder<SleepServer> cache = builder.AddResource(new SleepServer("cache", "y"));
        api.WithReference(teacher).WaitFor(teacher).WithReference(messaging);
        teacher.WithReference(api).WithReference(cache);

        DistributedApplication app = builder.Build();

        Assert.Equal(["cache", "teacher", "messaging", "api"], app.Resources.Select(r => r.Name));
    }

    [Fact]
    public void Builder_rejects_what_cannot_run_with_a_message_that_says_what_to_do()
    {
        IDistributedApplicationBuilder builder = NewBuilder();
        builder.AddProject<TeacherProject>("teacher");

        Assert.Contains("already added", Assert.Throws<DistributedApplicationException>(() => builder.AddExecutable("Teacher", "/bin/true", ".")).Message);
        Assert.Contains("cannot name a resource", Assert.Throws<DistributedApplicationException>(() => builder.AddExecutable("9lives", "/bin/true", ".")).Message);
        Assert.Contains("between 1 and 64 replicas", Assert.Throws<DistributedApplicationException>(() => builder.AddExecutable("zero", "/bin/true", ".").WithReplicas(0)).Message);
        Assert.Equal("services/FailureSynth.Teacher/FailureSynth.Teacher.csproj", ((ProjectResource)builder.Resources[0].Resource).ProjectPath);
        Assert.True(builder.Resources[0].Settings.ExportsTelemetry);
    }

    [Fact]
    public void Reference_to_a_service_without_endpoint_is_an_error_naming_both()
    {
        IDistributedApplicationBuilder builder = NewBuilder();
        IResourceBuilder<ExecutableResource> worker = builder.AddExecutable("worker", "/bin/true", ".");
        builder.AddExecutable("api", "/bin/true", ".").WithReference(worker);

        var error = Assert.Throws<DistributedApplicationException>(() => builder.Build());

        Assert.Contains("'api' references 'worker', which has no HTTP endpoint", error.Message);
    }

    [Fact]
    public void Fixed_port_cannot_serve_several_replicas()
    {
        IDistributedApplicationBuilder builder = NewBuilder();
        builder.AddExecutable("web", "/bin/true", ".").WithHttpEndpoint(8080).WithReplicas(2);

        var error = Assert.Throws<DistributedApplicationException>(() => builder.Build());

        Assert.Contains("2 replicas but the fixed port 8080", error.Message);
    }

    [Fact]
    public void Options_are_read_from_the_command_line_and_other_arguments_are_kept()
    {
        DistributedApplicationOptions options = DistributedApplicationOptions.FromArgs(
            ["--no-build", "-c", "Debug", "--otlp-endpoint", "http://localhost:18890", "--stop-timeout", "2.5", "--quiet", "--campaign", "demo"]);

        Assert.True(options.SkipBuild);
        Assert.Equal("Debug", options.Configuration);
        Assert.Equal(new Uri("http://localhost:18890"), options.OtlpEndpoint);
        Assert.Equal(TimeSpan.FromSeconds(2.5), options.StopTimeout);
        Assert.Null(options.Echo);
        Assert.Equal(["--campaign", "demo"], options.Args);
        Assert.Contains("--otlp-protocol is 'http/json'; use 'grpc' or 'http/protobuf'",
            Assert.Throws<DistributedApplicationException>(() => DistributedApplicationOptions.FromArgs(["--otlp-protocol", "http/json"])).Message);
        Assert.Contains("--start-timeout is 'soon'",
            Assert.Throws<DistributedApplicationException>(() => DistributedApplicationOptions.FromArgs(["--start-timeout", "soon"])).Message);
        Assert.Contains("--run-dir needs a value",
            Assert.Throws<DistributedApplicationException>(() => DistributedApplicationOptions.FromArgs(["--run-dir"])).Message);
    }

    [Fact]
    public void Restart_policy_restarts_as_its_mode_says_and_doubles_the_wait()
    {
        RestartPolicy onFailure = RestartPolicy.OnFailure(maxRestarts: 3, backoff: TimeSpan.FromSeconds(1)) with { MaxBackoff = TimeSpan.FromSeconds(3) };

        Assert.True(onFailure.ShouldRestart(exitCode: 3, restartsSoFar: 2));
        Assert.False(onFailure.ShouldRestart(exitCode: 3, restartsSoFar: 3));
        Assert.False(onFailure.ShouldRestart(exitCode: 0, restartsSoFar: 0));
        Assert.True(RestartPolicy.Always().ShouldRestart(exitCode: 0, restartsSoFar: 0));
        Assert.False(RestartPolicy.Never.ShouldRestart(exitCode: 1, restartsSoFar: 0));
        Assert.Equal([1, 2, 3, 3], new[] { 1, 2, 3, 4 }.Select(n => onFailure.DelayBefore(n).TotalSeconds));
    }

    [Fact]
    public async Task Status_before_the_start_is_waiting_and_unknown_names_are_listed()
    {
        IDistributedApplicationBuilder builder = NewBuilder();
        builder.AddExecutable("web", "/bin/true", ".").WithReplicas(2);
        await using DistributedApplication app = builder.Build();

        Assert.All(app.GetStatus(), s => Assert.Equal(ReplicaState.Waiting, s.State));
        Assert.Equal(2, app.GetStatus().Count);
        Assert.Contains("the resources are web", Assert.Throws<ArgumentException>(() => app.GetStatus("api")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => app.GetStatus("web", 2));
    }
}
