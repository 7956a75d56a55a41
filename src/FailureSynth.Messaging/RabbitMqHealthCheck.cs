using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FailureSynth.Messaging;

/// <summary>Ready while the RabbitMQ connection is open; unhealthy while it cannot be made or is being recovered.</summary>
public sealed class RabbitMqHealthCheck(RabbitMqConnectionProvider connections) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await connections.GetConnectionAsync(cancellationToken).ConfigureAwait(false);
            return connection.IsOpen
                ? HealthCheckResult.Healthy($"connected to {connections.Endpoint}")
                : HealthCheckResult.Unhealthy($"connection to {connections.Endpoint} is down; automatic recovery is retrying ({connection.CloseReason?.ReplyText})");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy(e.Message, e);
        }
    }
}
