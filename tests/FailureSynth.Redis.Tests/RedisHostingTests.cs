using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using FailureSynth.Hosting.Network;

namespace FailureSynth.Redis.Tests;

[Collection(SharedRedisServer.Name)]
public sealed class RedisHostingTests(RedisServerFixture redis)
{
    [Fact]
    public void A_missing_connection_string_names_the_configuration_key()
    {
        HostApplicationBuilder builder = CreateBuilder(connectionString: null);
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddRedisClient("cache"));
        Assert.Contains("configuration key 'ConnectionStrings:cache' is missing or empty", error.Message);
        Assert.Contains("ConnectionStrings__cache=", error.Message);
    }

    [Fact]
    public void A_malformed_connection_string_names_the_key_and_the_bad_part()
    {
        HostApplicationBuilder builder = CreateBuilder("localhost:notaport,password=x");
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddRedisClient("cache"));
        Assert.Contains("'ConnectionStrings:cache'", error.Message);
        Assert.Contains("the port 'notaport'", error.Message);
    }

    [Fact]
    public async Task AddRedisClient_registers_the_connection_the_database_and_a_ready_health_check()
    {
        HostApplicationBuilder builder = CreateBuilder(redis.Server.ConnectionString);
        builder.AddRedisClient("cache");
        using IHost host = builder.Build();

        IRedisDatabase db = host.Services.GetRequiredService<IRedisDatabase>();
        Assert.Same(host.Services.GetRequiredService<RedisConnection>().GetDatabase(), db);
        Assert.NotNull(host.Services.GetRequiredService<IRedisSubscriber>());
        string key = redis.UniqueKey("hosted");
        await db.StringSetAsync(key, "through DI");
        Assert.Equal("through DI", (string?)await db.StringGetAsync(key));

        HealthReport report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        HealthReportEntry cache = report.Entries["cache"];
        Assert.Equal(HealthStatus.Healthy, cache.Status);
        Assert.Contains("ready", cache.Tags);
        Assert.Contains("PING to 127.0.0.1:", cache.Description);
    }

    [Fact]
    public async Task The_service_starts_before_Redis_does_and_turns_healthy_once_Redis_is_up()
    {
        int port = FreePort();
        const string Password = "late-redis-password";
        HostApplicationBuilder builder = CreateBuilder($"127.0.0.1:{port},password={Password},connectTimeout=500");
        builder.AddRedisClient("cache");
        using IHost host = builder.Build();

        RedisConnection connection = host.Services.GetRequiredService<RedisConnection>();
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        HealthReport before = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, before.Entries["cache"].Status);
        Assert.Contains($"127.0.0.1:{port}", before.Entries["cache"].Description);

        await using OwnedRedisServer late = await OwnedRedisServer.StartAsync(port, Password);
        await Eventually.TrueAsync(async () => (await health.CheckHealthAsync()).Status == HealthStatus.Healthy,
            TimeSpan.FromSeconds(10), "the health check to turn healthy");
        Assert.True(connection.IsConnected);
        await host.StopAsync();
    }

    private static HostApplicationBuilder CreateBuilder(string? connectionString)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (connectionString is not null)
            builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:cache", connectionString)]);
        return builder;
    }

    // Below the OS's ephemeral range, so no outgoing connection takes it before the server binds it.
    private static int FreePort() => LoopbackPorts.FreePort();
}
