using System.Diagnostics;
using System.Net;
using FailureSynth.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace FailureSynth.Hosting.Tests;

/// <summary>The standard resilience handler ServiceDefaults puts on every HttpClient.</summary>
public sealed class ResilienceTests
{
    /// <summary>Answers from a script, one per attempt, and counts the attempts.</summary>
    private sealed class ScriptedServer(params Func<HttpResponseMessage>[] answers) : HttpMessageHandler
    {
        public int Attempts { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Func<HttpResponseMessage> answer = answers[Math.Min(Attempts, answers.Length - 1)];
            Attempts++;
            return Task.FromResult(answer());
        }
    }

    private static Func<HttpResponseMessage> Status(HttpStatusCode code) => () => new HttpResponseMessage(code);

    private static readonly HttpResilienceOptions Fast = new() { RetryDelay = TimeSpan.FromMilliseconds(1), UseJitter = false };

    private static HttpClient Client(ScriptedServer server, HttpResilienceOptions options) =>
        new(new StandardResilienceHandler(new HttpResiliencePipelines(Options.Create(options), NullLoggerFactory.Instance)) { InnerHandler = server });

    [Fact]
    public async Task A_503_is_retried_and_the_next_success_is_returned()
    {
        var server = new ScriptedServer(Status(HttpStatusCode.ServiceUnavailable), Status(HttpStatusCode.OK));
        using HttpClient client = Client(server, Fast);

        using HttpResponseMessage response = await client.GetAsync("http://teacher/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Attempts);
    }

    [Fact]
    public async Task Retries_stop_after_the_limit_and_the_last_answer_is_returned()
    {
        var server = new ScriptedServer(Status(HttpStatusCode.ServiceUnavailable));
        using HttpClient client = Client(server, Fast);

        using HttpResponseMessage response = await client.GetAsync("http://teacher/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1 + Fast.MaxRetryAttempts, server.Attempts);
    }

    [Fact]
    public async Task Transient_failures_are_retried_and_client_errors_are_not()
    {
        var refused = new ScriptedServer(() => throw new HttpRequestException("Connection refused"), Status(HttpStatusCode.TooManyRequests), Status(HttpStatusCode.OK));
        var badRequest = new ScriptedServer(Status(HttpStatusCode.BadRequest));

        using (HttpResponseMessage response = await Client(refused, Fast).GetAsync("http://teacher/"))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (HttpResponseMessage response = await Client(badRequest, Fast).GetAsync("http://teacher/"))
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        Assert.Equal(3, refused.Attempts);
        Assert.Equal(1, badRequest.Attempts);
    }

    [Fact]
    public async Task Retry_after_header_sets_the_wait()
    {
        var server = new ScriptedServer(
            () => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Headers = { RetryAfter = new(TimeSpan.FromMilliseconds(600)) } },
            Status(HttpStatusCode.OK));
        using HttpClient client = Client(server, Fast);
        var clock = Stopwatch.StartNew();

        using HttpResponseMessage response = await client.GetAsync("http://teacher/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(550), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Circuit_opens_after_enough_failures_and_then_rejects_without_calling_the_server()
    {
        var options = new HttpResilienceOptions
        {
            MaxRetryAttempts = 0,
            CircuitBreakerMinimumThroughput = 2,
            CircuitBreakerFailureRatio = 0.5,
            CircuitBreakerBreakDuration = TimeSpan.FromSeconds(30),
        };
        var server = new ScriptedServer(Status(HttpStatusCode.InternalServerError));
        using HttpClient client = Client(server, options);

        for (int i = 0; i < 2; i++) (await client.GetAsync("http://teacher/")).Dispose();
        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.GetAsync("http://teacher/"));

        Assert.Equal(2, server.Attempts);
    }

    [Fact]
    public async Task Service_defaults_put_the_handler_on_every_client_and_read_its_settings_from_configuration()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        // The default console logger would print the deliberate failures (502s, the refused start with its stack trace).
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HttpResilience:RetryDelay"] = "00:00:00.001",
            ["HttpResilience:MaxRetryAttempts"] = "2",
        });
        builder.AddServiceDefaults();
        var server = new ScriptedServer(Status(HttpStatusCode.BadGateway));
        builder.Services.AddHttpClient("teacher").ConfigurePrimaryHttpMessageHandler(() => server);
        using IHost host = builder.Build();

        using HttpResponseMessage response = await host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("teacher").GetAsync("http://teacher/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(3, server.Attempts);
    }

    [Fact]
    public async Task Unusable_resilience_settings_stop_the_service_at_startup_naming_the_setting()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        // The default console logger would print the deliberate failures (502s, the refused start with its stack trace).
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["HttpResilience:AttemptTimeout"] = "00:05:00" });
        builder.AddServiceDefaults();
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        // A passing run stays quiet: no logger here writes the refused start ("fail: ... Hosting failed to start") to the console.
        Assert.DoesNotContain(host.Services.GetServices<ILoggerProvider>(), p => p.GetType().Name == "ConsoleLoggerProvider");

        Assert.Contains("HttpResilience:AttemptTimeout is 00:05:00; it must be at most TotalRequestTimeout (00:00:30)", error.Message);
    }
}
