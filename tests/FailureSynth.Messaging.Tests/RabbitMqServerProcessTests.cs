using FailureSynth.Hosting.Network;
using FailureSynth.Hosting.RabbitMQ;

namespace FailureSynth.Messaging.Tests;

/// <summary>
/// How the launcher isolates a node and reports a failed start, checked with stand-in start
/// scripts (fast, and able to fail on purpose); real nodes are exercised by the other tests.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RabbitMqServerProcessTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"fs-launcher-tests-{Guid.NewGuid():N}");

    public RabbitMqServerProcessTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string StandInServer(string body)
    {
        string path = Path.Combine(_root, "rabbitmq-server");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public async Task The_node_gets_its_own_ports_folders_cookie_and_credentials_and_no_plugins()
    {
        string data = Path.Combine(_root, "data");
        string server = StandInServer("env > \"$HOME/seen-environment\"; exit 1");

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            RabbitMqServerProcess.StartAsync(new RabbitMqServerOptions(data, AmqpPort: 45672, User: "fs-test", Password: "pw-1", ServerExecutable: server)));

        Dictionary<string, string> environment = SeenEnvironment(data);
        Assert.Equal(data, environment["HOME"]);
        Assert.Matches("^fs-[0-9a-f]{12}@localhost$", environment["RABBITMQ_NODENAME"]);
        Assert.Equal("45672", environment["RABBITMQ_NODE_PORT"]);
        Assert.NotEqual("45672", environment["RABBITMQ_DIST_PORT"]);
        Assert.Equal(Path.Combine(data, "mnesia"), environment["RABBITMQ_MNESIA_BASE"]);
        Assert.Equal(Path.Combine(data, "log"), environment["RABBITMQ_LOG_BASE"]);
        string config = File.ReadAllText(environment["RABBITMQ_CONFIG_FILE"]);
        Assert.Contains("default_user = fs-test\n", config);
        Assert.Contains("default_pass = pw-1\n", config);
        Assert.Contains("listeners.tcp.default = 127.0.0.1:45672\n", config);
        Assert.Contains("loopback_users = none\n", config);
        Assert.Equal("[].\n", File.ReadAllText(environment["RABBITMQ_ENABLED_PLUGINS_FILE"]));
        Assert.Equal("", File.ReadAllText(environment["RABBITMQ_CONF_ENV_FILE"]));
    }

    [Fact]
    public async Task Ports_left_to_the_launcher_are_two_distinct_ones_below_the_ephemeral_range()
    {
        string data = Path.Combine(_root, "data");
        string server = StandInServer("env > \"$HOME/seen-environment\"; exit 1");

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            RabbitMqServerProcess.StartAsync(new RabbitMqServerOptions(data, ServerExecutable: server)));

        Dictionary<string, string> environment = SeenEnvironment(data);
        int amqp = int.Parse(environment["RABBITMQ_NODE_PORT"], System.Globalization.CultureInfo.InvariantCulture);
        int distribution = int.Parse(environment["RABBITMQ_DIST_PORT"], System.Globalization.CultureInfo.InvariantCulture);
        int ephemeralLow = LoopbackPorts.EphemeralRangeStart();
        Assert.NotEqual(amqp, distribution);
        Assert.InRange(amqp, 10000, ephemeralLow - 1);
        Assert.InRange(distribution, 10000, ephemeralLow - 1);
    }

    // The environment the stand-in server wrote to $HOME/seen-environment.
    private static Dictionary<string, string> SeenEnvironment(string data) =>
        File.ReadAllLines(Path.Combine(data, "seen-environment"))
            .Where(line => line.Contains('=')).Select(line => line.Split('=', 2))
            .GroupBy(pair => pair[0]).ToDictionary(g => g.Key, g => g.First()[1]);

    [Fact]
    public async Task A_node_that_exits_during_start_up_is_reported_with_its_last_output()
    {
        string server = StandInServer("echo 'booting'; echo 'ERROR: could not bind listener: eaddrinuse' >&2; exit 3");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            RabbitMqServerProcess.StartAsync(new RabbitMqServerOptions(Path.Combine(_root, "data"), ServerExecutable: server)));

        Assert.Contains("exited with code 3 before accepting connections", error.Message);
        Assert.Contains("booting", error.Message);
        Assert.Contains("ERROR: could not bind listener: eaddrinuse", error.Message);
    }

    [Fact]
    public async Task A_node_that_never_accepts_logins_times_out_and_is_stopped()
    {
        string pidFile = Path.Combine(_root, "launcher.pid");
        string server = StandInServer($"echo $$ > '{pidFile}'; echo 'still booting'; exec sleep 60");

        var error = await Assert.ThrowsAsync<TimeoutException>(() => RabbitMqServerProcess.StartAsync(
            new RabbitMqServerOptions(Path.Combine(_root, "data"), ServerExecutable: server, StartupTimeout: TimeSpan.FromSeconds(1))));

        Assert.Contains("did not accept an AMQP login", error.Message);
        Assert.Contains("within 1 s", error.Message);
        Assert.Contains("still booting", error.Message);
        int pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.False(OsProcesses.IsRunning(pid), $"the stand-in node (pid {pid}) still runs after the failed start");
    }
}
