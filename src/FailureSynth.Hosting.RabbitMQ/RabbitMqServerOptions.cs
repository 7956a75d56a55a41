namespace FailureSynth.Hosting.RabbitMQ;

/// <summary>
/// How to start a local rabbitmq-server node: where its data lives, and optionally a fixed AMQP
/// port and credentials (free port and generated secrets otherwise).
/// </summary>
/// <param name="DataDirectory">Folder for the node's database, logs, config and Erlang cookie; created when missing.</param>
/// <param name="AmqpPort">AMQP listener port on 127.0.0.1; a free port when null.</param>
/// <param name="User">Default user; generated when null. Letters, digits and <c>-_.~</c> only.</param>
/// <param name="Password">Default user's password; generated when null. Letters, digits and <c>-_.~</c> only.</param>
/// <param name="ServerExecutable">The rabbitmq-server start script; found in the usual install folders when null.</param>
/// <param name="StartupTimeout">How long to wait for the node to accept an AMQP login; 60 s when null.</param>
public sealed record RabbitMqServerOptions(
    string DataDirectory,
    int? AmqpPort = null,
    string? User = null,
    string? Password = null,
    string? ServerExecutable = null,
    TimeSpan? StartupTimeout = null);
