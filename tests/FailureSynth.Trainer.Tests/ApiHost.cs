using System.Collections.Concurrent;
using FailureSynth.Events;
using FailureSynth.Messaging;
using FailureSynth.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailureSynth.Trainer.Tests;

/// <summary>
/// The Trainer's campaign API, wired as Program.cs wires it, on real Kestrel at 127.0.0.1 with its own data root. The
/// bus refuses every message: the requests these tests send must be refused before any campaign work is published.
/// </summary>
internal sealed class ApiHost : IAsyncDisposable
{
    public const string Key = "test-key-0123456789abcdef";

    private readonly WebApplication _app;

    private ApiHost(WebApplication app, string root, LogCapture logs, string console)
    {
        _app = app;
        Root = root;
        Logs = logs;
        Console = console;
        Http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
    }

    public string Root { get; }
    public LogCapture Logs { get; }
    public string Console { get; }
    public HttpClient Http { get; }
    public Uri Address => Http.BaseAddress!;

    public static async Task<ApiHost> StartAsync(IDictionary<string, string?>? settings = null, string environment = "Production", Action<string>? prepare = null)
    {
        string root = Directory.CreateTempSubdirectory("failuresynth-api-").FullName;
        prepare?.Invoke(root);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment, ContentRootPath = root });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var values = new Dictionary<string, string?>
        {
            [CampaignApiKey.ConfigurationKey] = Key,
            [DataRoot.ConfigurationKey] = root,
            // High enough that only the tests about limits meet them.
            ["FailureSynth:Api:PermitsPerMinute"] = "100000",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) values[k] = v;
        builder.Configuration.AddInMemoryCollection(values);
        var logs = new LogCapture();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddSingleton(new DataRoot(root));
        builder.Services.AddSingleton<IEventBus, RefusingEventBus>();
        builder.Services.AddSingleton<ReplyRouter>();
        builder.Services.AddSingleton<CampaignManager>();
        builder.Services.AddSingleton<SynthesisBench>();
        builder.AddCampaignApiSecurity();
        using var console = new StringWriter();
        string key = CampaignApiKey.FromConfiguration(builder.Configuration, console);
        var app = builder.Build();
        app.UseCampaignApiSecurity();
        app.MapCampaignApi(key);
        await app.StartAsync();
        app.Services.GetRequiredService<CampaignManager>().LoadAndResume();
        return new ApiHost(app, root, logs, console.ToString());
    }

    public HttpRequestMessage Request(HttpMethod method, string path, string? key = Key, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (key is not null) request.Headers.Add(CampaignApi.ApiKeyHeader, key);
        return request;
    }

    /// <summary>Campaign folders the host created: a refused campaign leaves none.</summary>
    public string[] CampaignFolders()
    {
        string dir = Path.Combine(Root, "campaigns");
        return Directory.Exists(dir) ? Directory.GetDirectories(dir) : [];
    }

    public HttpRequestMessage PostYaml(string yaml) =>
        Request(HttpMethod.Post, "/campaigns", content: new StringContent(yaml, System.Text.Encoding.UTF8, "application/yaml"));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Stands for RabbitMQ in these tests: any publish means a refused request started work.</summary>
    private sealed class RefusingEventBus : IEventBus
    {
        public Task PublishAsync<TEvent>(TEvent @event, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent =>
            throw new EventPublishException($"the API tests have no broker; {typeof(TEvent).Name} should never have been published");

        public Task DeadLetterAsync<TEvent>(TEvent @event, string reason, CancellationToken cancellationToken = default) where TEvent : IntegrationEvent =>
            throw new EventPublishException($"the API tests have no broker; {typeof(TEvent).Name} should never have been dead-lettered ({reason})");
    }
}

/// <summary>Every log line the host writes (what would leave the process over OTLP), kept for the tests to read.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} [{structured}] {exception}");
        }
    }
}
