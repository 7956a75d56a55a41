using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailureSynth.Messaging.Tests;

/// <summary>What an operator sees of a dead letter: the FailureSynth meter's counter, and log lines that name the campaign.</summary>
[Collection(SharedBrokerCollection.Name)]
public sealed class DeadLetterTelemetryTests(SharedBroker broker)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly string _exchange = $"t-{Guid.NewGuid():N}"[..14];

    [Fact]
    public async Task A_dead_lettered_message_is_counted_by_service_event_type_and_reason_and_its_handling_logs_carry_the_campaign_id()
    {
        var deadLetters = new ConcurrentQueue<(long Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == EventBusDiagnostics.MeterName && instrument.Name == "failuresynth.dead_letters") listener.EnableMeasurementEvents(instrument);
            },
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var map = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (key, tag) in tags) map[key] = tag;
            // Other tests on the shared broker dead-letter too: keep this test's service only.
            if (Equals(map.GetValueOrDefault("failuresynth.service"), "telemetry-teacher")) deadLetters.Enqueue((value, map));
        });
        meters.Start();
        var logs = new ScopeCapturingLoggerProvider();

        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "telemetry-teacher" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:messaging"] = broker.ConnectionString });
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton<HandledEvents>();
        builder.AddRabbitMQClient("messaging");
        builder.AddEventBus("telemetry-teacher", options =>
        {
            options.ExchangeName = _exchange;
            options.DeliveryLimit = 2;
        }).AddSubscription<SkillDiagnosed, AlwaysFailingHandler>();
        using IHost host = builder.Build();
        await host.StartAsync();
        try
        {
            await using BrokerProbe probe = await BrokerProbe.ConnectAsync(broker.ConnectionString);
            var diagnosed = new SkillDiagnosed("counting") { Id = EventIds.Derive("c-telemetry", "diagnose", "0"), CampaignId = "c-telemetry" };
            await host.Services.GetRequiredService<IEventBus>().PublishAsync(diagnosed);

            _ = (await probe.TakeAsync($"{_exchange}.telemetry-teacher.dead", 1, Patience)).Single();
            // The counter is recorded right after the dead letter is confirmed and the original acked.
            await Eventually.HoldsAsync(() => Task.FromResult(!deadLetters.IsEmpty), Patience, "the dead letter to be counted");
            var (value, tags) = Assert.Single(deadLetters);
            Assert.Equal(1, value);
            Assert.Equal(nameof(SkillDiagnosed), tags["messaging.message.type"]);
            Assert.Equal("System.InvalidOperationException", tags["failuresynth.reason"]);

            // The retry warning and the dead-letter warning were written inside the message's campaign scope. Only the
            // event bus's own lines: the RabbitMQ client warns too when another test restarts the shared broker.
            var warnings = logs.Lines.Where(l => l.Level == LogLevel.Warning && l.Category.StartsWith("FailureSynth.Messaging.", StringComparison.Ordinal)).ToList();
            Assert.Contains(warnings, l => l.Message.StartsWith("Dead-lettered message", StringComparison.Ordinal));
            Assert.All(warnings, l => Assert.Equal("c-telemetry", l.Scope.GetValueOrDefault("CampaignId")));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private sealed record LogLine(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Scope);

    /// <summary>Keeps every log line with the key-value pairs of the scopes it was written in.</summary>
    private sealed class ScopeCapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<LogLine> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(ScopeCapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new Dictionary<string, object?>(StringComparer.Ordinal);
                provider._scopes.ForEachScope((s, map) =>
                {
                    if (s is IEnumerable<KeyValuePair<string, object?>> pairs)
                        foreach (var (key, value) in pairs) map[key] = value;
                }, scope);
                provider.Lines.Enqueue(new LogLine(category, logLevel, formatter(state, exception), scope));
            }
        }
    }
}
