using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;

namespace FailureSynth.AppHost;

/// <summary>
/// A server run by DCP as a local process from the OS packages (redis-server, rabbitmq-server, epmd) that also carries
/// a connection string, so services use it with the same <c>.WithReference(x).WaitFor(x)</c> as Aspire's container
/// resources. Its port is fixed when the model is built (a free loopback port) and not proxied: a restarted process
/// comes back on the same address, and the process can be told its own port in its arguments.
/// </summary>
public sealed class LocalServerResource(string name, string command, string workingDirectory, int port, ReferenceExpression connectionString)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public int Port { get; } = port;

    public ReferenceExpression ConnectionStringExpression { get; } = connectionString;
}

/// <summary>Free TCP ports on the loopback interface, chosen when the model is built.</summary>
public static class LoopbackPorts
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Redis (<c>cache</c>) and RabbitMQ (<c>messaging</c>, with its own epmd) as DCP-managed local processes.</summary>
public static class LocalProcessResourceExtensions
{
    // Debian installs /usr/sbin/rabbitmq-server as a wrapper that switches to the 'rabbitmq' user and its /var/lib
    // data; the script it wraps runs as the caller, with the data folder we give it.
    private static readonly string[] RabbitMqServerScripts = ["/usr/lib/rabbitmq/bin/rabbitmq-server", "/usr/local/sbin/rabbitmq-server", "/opt/homebrew/sbin/rabbitmq-server"];

    /// <summary>
    /// redis-server bound to 127.0.0.1 on a free port, with a generated password, no persistence (it is a cache:
    /// a restart starts it empty, as a flush does) and its working folder under <paramref name="dataDirectory"/>.
    /// </summary>
    public static IResourceBuilder<LocalServerResource> AddLocalRedis(this IDistributedApplicationBuilder builder, string name, string dataDirectory)
    {
        string executable = FindExecutable("redis-server", []);
        var password = builder.AddParameter($"{name}-password", Secret(), secret: true);
        int port = LoopbackPorts.Free();
        string folder = Directory.CreateDirectory(Path.Combine(dataDirectory, name)).FullName;
        var connection = ReferenceExpression.Create($"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)},password={password.Resource}");
        var redis = new LocalServerResource(name, executable, folder, port, connection);
        string healthCheck = $"{name}-ping";
        builder.Services.AddHealthChecks().Add(new(healthCheck, sp => new RedisPingHealthCheck(port, password.Resource), failureStatus: null, tags: null));
        return builder.AddResource(redis)
            .WithArgs("--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--dir", folder,
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes", "--logfile", "")
            .WithArgs(context => { context.Args.Add("--requirepass"); context.Args.Add(password.Resource); })
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthCheck)
            .WithIconName("Memory");
    }

    /// <summary>
    /// rabbitmq-server as a private node: its own node name, AMQP and distribution ports on 127.0.0.1, data, logs,
    /// config, Erlang cookie and generated credentials under <paramref name="dataDirectory"/>, and its own epmd (a
    /// resource of its own, on a free loopback port) instead of the system-wide daemon Erlang would otherwise start
    /// and leave running on every interface.
    /// </summary>
    public static IResourceBuilder<LocalServerResource> AddLocalRabbitMQ(this IDistributedApplicationBuilder builder, string name, string dataDirectory)
    {
        string server = FindExecutable("rabbitmq-server", RabbitMqServerScripts);
        string epmdExecutable = FindExecutable("epmd", []);
        string folder = Directory.CreateDirectory(Path.Combine(dataDirectory, name)).FullName;
        string user = "fs-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        string secret = Secret();
        var password = builder.AddParameter($"{name}-password", secret, secret: true);
        int amqpPort = LoopbackPorts.Free(), distributionPort = LoopbackPorts.Free(), epmdPort = LoopbackPorts.Free();
        string node = $"fs-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}@localhost";

        // epmd in the foreground, loopback only, on its own port: DCP stops it with everything else.
        var epmd = new LocalServerResource($"{name}-epmd", epmdExecutable, folder, epmdPort,
            ReferenceExpression.Create($"127.0.0.1:{epmdPort.ToString(CultureInfo.InvariantCulture)}"));
        string epmdCheck = $"{name}-epmd-names";
        builder.Services.AddHealthChecks().Add(new(epmdCheck, _ => new EpmdNamesHealthCheck(epmdPort), failureStatus: null, tags: null));
        var epmdBuilder = builder.AddResource(epmd)
            .WithArgs("-port", epmdPort.ToString(CultureInfo.InvariantCulture), "-address", "127.0.0.1")
            .WithEndpoint(port: epmdPort, targetPort: epmdPort, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(epmdCheck);

        string config = Directory.CreateDirectory(Path.Combine(folder, "config")).FullName;
        File.WriteAllText(Path.Combine(config, "rabbitmq.conf"),
            $"""
            # Written by the FailureSynth AppHost for node {node}; rewritten on every start of the AppHost.
            default_user = {user}
            default_pass = {secret}
            listeners.tcp.default = 127.0.0.1:{amqpPort.ToString(CultureInfo.InvariantCulture)}
            loopback_users = none
            log.console = true
            log.console.level = info
            log.file = false
            # Quorum queues keep the write-ahead log's entries in memory until the log rolls over (512 MB by default):
            # a long synthesis run grew the broker to 380 MB. 64 MB bounds that (docs/throughput.md).
            raft.wal_max_size_bytes = 67108864

            """);
        // No plugins (the management UI is not needed and each plugin slows the boot); an empty env file shadows
        // /etc/rabbitmq/rabbitmq-env.conf.
        File.WriteAllText(Path.Combine(config, "enabled_plugins"), "[].\n");
        File.WriteAllText(Path.Combine(config, "rabbitmq-env.conf"), "");

        var connection = ReferenceExpression.Create($"amqp://{user}:{password.Resource}@127.0.0.1:{amqpPort.ToString(CultureInfo.InvariantCulture)}");
        var rabbit = new LocalServerResource(name, server, folder, amqpPort, connection);
        string amqpCheck = $"{name}-amqp";
        builder.Services.AddHealthChecks().Add(new(amqpCheck, _ => new AmqpHandshakeHealthCheck(amqpPort), failureStatus: null, tags: null));
        return builder.AddResource(rabbit)
            .WithEnvironment("HOME", folder) // Erlang keeps its cookie in $HOME
            .WithEnvironment("RABBITMQ_NODENAME", node)
            .WithEnvironment("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .WithEnvironment("RABBITMQ_NODE_PORT", amqpPort.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("RABBITMQ_DIST_PORT", distributionPort.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("ERL_EPMD_PORT", epmdPort.ToString(CultureInfo.InvariantCulture))
            .WithEnvironment("ERL_EPMD_ADDRESS", "127.0.0.1")
            .WithEnvironment("RABBITMQ_MNESIA_BASE", Path.Combine(folder, "mnesia"))
            .WithEnvironment("RABBITMQ_LOG_BASE", Path.Combine(folder, "log"))
            .WithEnvironment("RABBITMQ_CONFIG_FILE", Path.Combine(config, "rabbitmq.conf"))
            .WithEnvironment("RABBITMQ_ADVANCED_CONFIG_FILE", Path.Combine(config, "advanced.config"))
            .WithEnvironment("RABBITMQ_CONF_ENV_FILE", Path.Combine(config, "rabbitmq-env.conf"))
            .WithEnvironment("RABBITMQ_ENABLED_PLUGINS_FILE", Path.Combine(config, "enabled_plugins"))
            .WithEnvironment("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-noinput -start_epmd false -kernel inet_dist_use_interface {127,0,0,1}")
            // The script then execs the Erlang VM instead of waiting on it in the background: DCP's process is the broker
            // itself, so a crash shows as its exit code (the waiting script would exit 0) and SIGTERM stops it gracefully.
            .WithEnvironment("RABBITMQ_ALLOW_INPUT", "true")
            .WithEnvironment("ERL_CRASH_DUMP", Path.Combine(folder, "erl_crash.dump"))
            .WithEndpoint(port: amqpPort, targetPort: amqpPort, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(amqpCheck)
            .WithParentRelationship(epmdBuilder)
            .WaitFor(epmdBuilder)
            .WithIconName("Mail");
    }

    private static string Secret() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));

    private static string FindExecutable(string name, IEnumerable<string> preferred)
    {
        foreach (string candidate in preferred)
            if (File.Exists(candidate)) return candidate;
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/usr/bin"]))
        {
            string candidate = Path.Combine(folder, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new DistributedApplicationException(
            $"{name} was not found on PATH. Install the OS prerequisites with eng/install-prereqs.sh (as root), or run with --infrastructure containers where a container runtime works.");
    }
}
