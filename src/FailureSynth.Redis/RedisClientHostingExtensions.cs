using FailureSynth.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers the Redis client the way Aspire's AddRedisClient does, from the connection string an
/// AppHost injects (<c>ConnectionStrings__{name}</c>), so that a real Aspire AppHost could host
/// the service unchanged.
/// </summary>
public static class RedisClientHostingExtensions
{
    /// <summary>The tag of the health check, so that it counts for readiness, not liveness.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Registers a singleton <see cref="RedisConnection"/> for <c>ConnectionStrings:{connectionName}</c>,
    /// with <see cref="IRedisDatabase"/>, <see cref="IRedisSubscriber"/> and a health check named
    /// <paramref name="connectionName"/>. The connection opens in the background and keeps retrying,
    /// so the service starts even while Redis is still coming up; the health check reports it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection string is missing or malformed.</exception>
    public static void AddRedisClient(this IHostApplicationBuilder builder, string connectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);

        string key = $"ConnectionStrings:{connectionName}";
        string? connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                $"The Redis client '{connectionName}' has no connection string: configuration key '{key}' is missing or empty. " +
                $"Set it, e.g. with the environment variable ConnectionStrings__{connectionName}=127.0.0.1:6379,password=…, or run the service under the AppHost, which sets it.");
        RedisConfiguration configuration;
        try
        {
            configuration = RedisConfiguration.Parse(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"Configuration key '{key}' does not hold a usable Redis connection string. {e.Message}", e);
        }

        builder.Services.AddSingleton(services =>
            RedisConnection.Create(configuration, services.GetService<ILoggerFactory>()?.CreateLogger(RedisConnection.ActivitySourceName)));
        builder.Services.AddSingleton(services => services.GetRequiredService<RedisConnection>().GetDatabase());
        builder.Services.AddSingleton(services => services.GetRequiredService<RedisConnection>().GetSubscriber());
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            services => new RedisHealthCheck(services.GetRequiredService<RedisConnection>()),
            failureStatus: null,
            tags: [ReadyTag]));
    }
}
