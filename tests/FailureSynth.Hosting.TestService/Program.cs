using System.Diagnostics;
using System.Diagnostics.Metrics;

// The service the orchestrator tests start: Aspire-style defaults plus a few endpoints that let a
// test see what the orchestrator injected, crash the process, and produce telemetry.
var source = new ActivitySource("FailureSynth.TestService");
var meter = new Meter("FailureSynth.TestService");
Counter<long> probes = meter.CreateCounter<long>("failuresynth.testservice.probes");

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddHttpClient();

WebApplication app = builder.Build();
app.MapDefaultEndpoints();

app.MapGet("/pid", () => Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

app.MapGet("/env/{name}", (string name) =>
    Environment.GetEnvironmentVariable(name) is { } value ? Results.Text(value) : Results.NotFound($"{name} is not set"));

app.MapGet("/crash", () =>
{
    // Exit after the answer is sent: Environment.Exit waits for the host to stop, and the host
    // would wait for this very request to finish.
    _ = Task.Run(async () =>
    {
        await Task.Delay(100);
        Environment.Exit(3);
    });
    return Results.Text("crashing with exit code 3");
});

// Calls another service found through the services__{name}__http__0 variable the orchestrator injects.
app.MapGet("/call/{service}", async (string service, IConfiguration configuration, IHttpClientFactory clients) =>
{
    string? address = configuration[$"services:{service}:http:0"];
    if (address is null) return Results.NotFound($"services:{service}:http:0 is not configured");
    string pid = await clients.CreateClient().GetStringAsync(new Uri(new Uri(address), "/pid"));
    return Results.Text(pid);
});

// One span, one counter increment and one log line from FailureSynth-named sources.
app.MapGet("/traced", (ILogger<Program> logger) =>
{
    using Activity? activity = source.StartActivity("testservice.probe");
    probes.Add(1);
    logger.LogInformation("probe handled by {Service}", "testservice");
    return Results.Text(activity?.TraceId.ToString() ?? "untraced");
});

app.Run();
