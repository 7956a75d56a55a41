using FailureSynth.Caching;
using FailureSynth.Workers;
using FailureSynth.Messaging;
using StackExchange.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>What every service of the loop registers: Redis ("cache"), the data root, teachers, and its event bus.</summary>
public static class LoopServiceRegistration
{
    /// <summary>
    /// Adds the Redis client, the data root (<c>FailureSynth:DataRoot</c>), the teacher pool, Redis-backed
    /// idempotency marks shared by the service's replicas, and the event bus of <paramref name="serviceName"/>.
    /// </summary>
    /// <param name="concurrentHandlers">Messages a replica handles at once unless <c>EventBus:ConcurrentHandlers</c> says otherwise.</param>
    public static IEventBusBuilder AddLoopService(this IHostApplicationBuilder builder, string serviceName, int concurrentHandlers = 1)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddRedisClient("cache"); // Aspire's client integration: IConnectionMultiplexer, health check, tracing
        string root = builder.Configuration[DataRoot.ConfigurationKey] ?? "";
        var dataRoot = new DataRoot(root);
        builder.Services.AddSingleton(dataRoot);
        builder.Services.AddSingleton<TeacherPool>();
        builder.Services.AddSingleton<IProcessedEventStore>(sp => new RedisProcessedEventStore(sp.GetRequiredService<IConnectionMultiplexer>().GetDatabase(), ttl: TimeSpan.FromDays(2)));
        int handlers = builder.Configuration.GetValue("EventBus:ConcurrentHandlers", concurrentHandlers);
        return builder.AddEventBus(serviceName, options => options.ConcurrentHandlers = handlers);
    }
}
