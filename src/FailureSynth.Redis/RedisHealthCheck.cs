using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FailureSynth.Redis;

/// <summary>The readiness check AddRedisClient registers: healthy when PING comes back within the command timeout.</summary>
public sealed class RedisHealthCheck(RedisConnection connection) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        string endpoint = connection.Configuration.Endpoint;
        // Answer at once while disconnected rather than letting the probe wait out a command timeout.
        if (!connection.IsConnected)
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"Not connected to Redis at {endpoint}: {connection.LastError?.Message ?? "still connecting"}",
                connection.LastError);
        try
        {
            TimeSpan roundTrip = await connection.GetDatabase().PingAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"PING to {endpoint} took {roundTrip.TotalMilliseconds:0.###} ms"));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"PING to Redis at {endpoint} failed: {e.Message}", e);
        }
    }
}
