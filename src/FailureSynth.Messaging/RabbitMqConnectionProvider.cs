using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace FailureSynth.Messaging;

/// <summary>
/// The process's one RabbitMQ connection: the <see cref="IConnection"/> that Aspire's client integration
/// (<c>builder.AddRabbitMQClient("messaging")</c>) registers, made on first use (Aspire retries while the broker
/// starts) and kept alive by the client's automatic recovery, which restores channels, queues, bindings and
/// consumers after a broker restart.
/// </summary>
public sealed class RabbitMqConnectionProvider(IServiceProvider services)
{
    private IConnection? _connection;

    /// <summary>The connection once made (open, or recovering), else null.</summary>
    public IConnection? Current => _connection;

    /// <summary>The broker's address, for messages (no credentials).</summary>
    public string Endpoint => _connection?.Endpoint.ToString() ?? "the broker of ConnectionStrings:messaging";

    public async Task<IConnection> GetConnectionAsync(CancellationToken cancellationToken = default)
    {
        if (_connection is { } existing) return existing;
        // Aspire's factory connects synchronously (with its own retries): keep that off the caller's thread.
        IConnection connection = await Task.Run(services.GetRequiredService<IConnection>, cancellationToken).ConfigureAwait(false);
        return _connection = connection;
    }
}

/// <summary>The messaging configuration cannot work (missing or malformed setting); retrying will not help.</summary>
public sealed class MessagingConfigurationException(string message) : InvalidOperationException(message);
