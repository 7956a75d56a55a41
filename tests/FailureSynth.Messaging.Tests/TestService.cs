using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FailureSynth.Messaging.Tests;

/// <summary>One running instance of a service that uses the bus, built the way a FailureSynth service's Program.cs builds it.</summary>
public sealed class TestService : IAsyncDisposable
{
    private readonly IHost _host;

    private TestService(IHost host) => _host = host;

    public HandledEvents Handled => _host.Services.GetRequiredService<HandledEvents>();

    public IEventBus Bus => _host.Services.GetRequiredService<IEventBus>();

    public IServiceProvider Services => _host.Services;

    public static async Task<TestService> StartAsync(string connectionString, string exchange, string serviceName,
        Action<IEventBusBuilder> subscribe, Action<EventBusOptions>? configure = null, TimeSpan? recoveryInterval = null)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = serviceName });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:messaging"] = connectionString });
        builder.Services.AddSingleton<HandledEvents>();
        builder.AddRabbitMQClient("messaging", configureConnectionFactory: factory =>
        {
            factory.AutomaticRecoveryEnabled = true;
            factory.TopologyRecoveryEnabled = true;
            factory.NetworkRecoveryInterval = recoveryInterval ?? TimeSpan.FromSeconds(2);
        });
        IEventBusBuilder bus = builder.AddEventBus(serviceName, options =>
        {
            options.ExchangeName = exchange;
            configure?.Invoke(options);
        });
        subscribe(bus);
        IHost host = builder.Build();
        await host.StartAsync();
        return new TestService(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        if (_host is IAsyncDisposable disposable) await disposable.DisposeAsync();
        else _host.Dispose();
    }
}
