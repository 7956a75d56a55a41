using FailureSynth.Hosting.RabbitMQ;
using FailureSynth.Hosting.Redis;

namespace FailureSynth.Hosting;

/// <summary>A local redis-server, reached by the services through <c>ConnectionStrings__{name}=host:port,password=…</c>.</summary>
public sealed class RedisResource(string name, int? port, string? password) : IServerResource
{
    public string Name => name;

    public async Task<IRunningServer> StartAsync(ServerStartContext context, CancellationToken cancellationToken)
    {
        RedisServerProcess server = await RedisServerProcess.StartAsync(new RedisServerOptions(context.DataDirectory, port, password), cancellationToken).ConfigureAwait(false);
        return new RunningRedis(server, context.OutputLine);
    }

    private sealed class RunningRedis : IRunningServer
    {
        private readonly RedisServerProcess _server;

        public RunningRedis(RedisServerProcess server, Action<string> output)
        {
            _server = server;
            // What it wrote while starting, then every further line.
            foreach (string line in server.RecentOutput) output(line);
            server.OutputLine += output;
        }

        public string ConnectionString => _server.ConnectionString;
        public int ProcessId => _server.ProcessId;
        public bool HasExited => _server.HasExited;
        public Task RestartAsync(CancellationToken cancellationToken) => _server.RestartAsync(cancellationToken);
        public Task StopAsync(CancellationToken cancellationToken) => _server.StopAsync(cancellationToken);
        public void Kill() => _server.Kill();
    }
}

/// <summary>A local RabbitMQ node, reached by the services through <c>ConnectionStrings__{name}=amqp://user:pass@host:port</c>.</summary>
public sealed class RabbitMQServerResource(string name, int? port, string? userName, string? password) : IServerResource
{
    public string Name => name;

    public async Task<IRunningServer> StartAsync(ServerStartContext context, CancellationToken cancellationToken)
    {
        RabbitMqServerProcess server = await RabbitMqServerProcess.StartAsync(
            new RabbitMqServerOptions(context.DataDirectory, port, userName, password), cancellationToken).ConfigureAwait(false);
        return new RunningRabbitMq(server, context.OutputLine);
    }

    private sealed class RunningRabbitMq : IRunningServer
    {
        private readonly RabbitMqServerProcess _server;

        public RunningRabbitMq(RabbitMqServerProcess server, Action<string> output)
        {
            _server = server;
            foreach (string line in server.RecentOutput) output(line);
            server.OutputLine += output;
        }

        public string ConnectionString => _server.ConnectionString;
        public int ProcessId => _server.ProcessId;
        public bool HasExited => _server.HasExited;
        public Task RestartAsync(CancellationToken cancellationToken) => _server.RestartAsync(cancellationToken);
        public Task StopAsync(CancellationToken cancellationToken) => _server.StopAsync(cancellationToken);

        public void Kill()
        {
            // The launcher refuses to kill a node that is not running; for the orchestrator that is already done.
            if (!_server.HasExited) _server.Kill();
        }
    }
}

/// <summary><c>AddRedis</c> and <c>AddRabbitMQ</c>, named as Aspire's hosting integrations are.</summary>
public static class ServerResourceBuilderExtensions
{
    /// <summary>Adds a redis-server on <paramref name="port"/> (a free one when null) with a generated password unless one is given.</summary>
    public static IResourceBuilder<RedisResource> AddRedis(this IDistributedApplicationBuilder builder, string name, int? port = null, string? password = null) =>
        builder.AddResource(new RedisResource(name, port, password));

    /// <summary>Adds a RabbitMQ node on <paramref name="port"/> (a free one when null) with generated credentials unless given.</summary>
    public static IResourceBuilder<RabbitMQServerResource> AddRabbitMQ(
        this IDistributedApplicationBuilder builder, string name, string? userName = null, string? password = null, int? port = null) =>
        builder.AddResource(new RabbitMQServerResource(name, port, userName, password));
}
