using System.Collections.Concurrent;
using System.Net;
using System.Text;
using FailureSynth.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FailureSynth.Hosting.Tests;

/// <summary>A service started by the orchestrator with an OTLP endpoint exports its telemetry there.</summary>
public sealed class TelemetryExportTests : IDisposable
{
    private readonly string _runDirectory = TestSupport.NewRunDirectory();

    public void Dispose() => TestSupport.DeleteRunDirectory(_runDirectory);

    [Fact]
    public async Task Service_exports_spans_metrics_and_logs_over_otlp_http_under_its_service_name()
    {
        await using OtlpReceiver receiver = await OtlpReceiver.StartAsync();
        DistributedApplicationOptions options = TestSupport.Options(_runDirectory) with
        {
            OtlpEndpoint = receiver.Endpoint,
            OtlpProtocol = "http/protobuf",
        };
        IDistributedApplicationBuilder builder = DistributedApplication.CreateBuilder(options);
        builder.AddProject("otel-probe", TestSupport.TestServiceProject).WithHttpEndpoint();
        await using DistributedApplication app = builder.Build();
        await app.StartAsync();

        string traceId = await TestSupport.GetStringAsync(app.GetEndpoint("otel-probe")!, "/traced");

        Assert.Matches("^[0-9a-f]{32}$", traceId);
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        // The service name is a resource attribute of every export; the other strings are the
        // span, instrument and log written by /traced, and ASP.NET Core's own request span.
        // otel-probe-0 is the service.instance.id the orchestrator passed in OTEL_RESOURCE_ATTRIBUTES.
        await receiver.WaitForAsync("traces", ["otel-probe", "otel-probe-0", "testservice.probe", "Microsoft.AspNetCore", "/traced"], patience.Token);
        await receiver.WaitForAsync("metrics", ["otel-probe", "failuresynth.testservice.probes"], patience.Token);
        await receiver.WaitForAsync("logs", ["otel-probe", "probe handled by"], patience.Token);
    }

    /// <summary>
    /// A minimal OTLP/HTTP receiver: accepts protobuf POSTs on /v1/traces, /v1/metrics and /v1/logs
    /// and keeps their bodies. Checking for strings in the raw bytes is enough here: protobuf stores
    /// strings as plain UTF-8.
    /// </summary>
    private sealed class OtlpReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, ConcurrentQueue<byte[]>> _received;

        private OtlpReceiver(WebApplication app, Uri endpoint, ConcurrentDictionary<string, ConcurrentQueue<byte[]>> received)
        {
            _app = app;
            Endpoint = endpoint;
            _received = received;
        }

        public Uri Endpoint { get; }

        public static async Task<OtlpReceiver> StartAsync()
        {
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            WebApplication app = builder.Build();
            var received = new ConcurrentDictionary<string, ConcurrentQueue<byte[]>>();
            app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
            {
                if (request.ContentType != "application/x-protobuf") return Results.StatusCode((int)HttpStatusCode.UnsupportedMediaType);
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body);
                received.GetOrAdd(signal, _ => new()).Enqueue(body.ToArray());
                // An empty Export*ServiceResponse: full success.
                return Results.Bytes([], "application/x-protobuf");
            });
            await app.StartAsync();
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new OtlpReceiver(app, new Uri(address), received);
        }

        /// <summary>Waits until the bodies posted for one signal contain every one of the strings.</summary>
        public async Task WaitForAsync(string signal, string[] expected, CancellationToken cancellationToken)
        {
            while (true)
            {
                string seen = _received.TryGetValue(signal, out ConcurrentQueue<byte[]>? bodies)
                    ? string.Concat(bodies.Select(b => Encoding.UTF8.GetString(b)))
                    : "";
                string[] missing = [.. expected.Where(e => !seen.Contains(e, StringComparison.Ordinal))];
                if (missing.Length == 0) return;
                if (cancellationToken.IsCancellationRequested)
                    Assert.Fail($"/v1/{signal} received {bodies?.Count ?? 0} bodies, none containing {string.Join(", ", missing)}.");
                await Task.Delay(200, CancellationToken.None);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
