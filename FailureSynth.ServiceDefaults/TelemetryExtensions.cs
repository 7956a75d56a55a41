using FailureSynth.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// OpenTelemetry traces, metrics and logs for a service, exported over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set: the part of Aspire's ServiceDefaults that
/// OpenTelemetry.Extensions.Hosting would provide, built on the core SDK (see DEPENDENCIES.md).
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>Every ActivitySource and Meter of FailureSynth's own code starts with this name.</summary>
    public const string FailureSynthSourcePrefix = "FailureSynth";

    /// <summary>Incoming requests (ASP.NET Core's own ActivitySource) and outgoing HttpClient calls.</summary>
    public static readonly IReadOnlyList<string> TracedSources = ["Microsoft.AspNetCore", "System.Net.Http", FailureSynthSourcePrefix + "*"];

    /// <summary>The meters .NET and ASP.NET Core publish natively, plus FailureSynth's own.</summary>
    public static readonly IReadOnlyList<string> MeteredSources =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "System.Net.Http",
        "System.Runtime",
        FailureSynthSourcePrefix + "*",
    ];

    /// <summary>
    /// Reads the OTEL_* variables (failing at startup on values that cannot work) and, when an
    /// endpoint is set, exports traces, metrics and logs to it.
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        TelemetrySettings settings = TelemetrySettings.FromConfiguration(builder.Configuration, builder.Environment.ApplicationName);
        builder.Services.AddSingleton(settings);
        if (!settings.ExportEnabled) return builder;

        // ASP.NET Core only fills the OpenTelemetry semantic-convention tags (method, route, status)
        // on its request activity when asked; without them a trace viewer shows bare spans.
        AppContext.SetSwitch("Microsoft.AspNetCore.Hosting.SuppressActivityOpenTelemetryData", false);

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
            logging.SetResourceBuilder(CreateResource(settings));
            logging.AddOtlpExporter(exporter => Point(exporter, settings, "v1/logs"));
        });
        builder.Services.AddHostedService(_ => new TelemetryProviders(settings));
        return builder;
    }

    internal static ResourceBuilder CreateResource(TelemetrySettings settings) =>
        ResourceBuilder.CreateEmpty()
            .AddService(settings.ServiceName, autoGenerateServiceInstanceId: settings.ServiceInstanceId is null, serviceInstanceId: settings.ServiceInstanceId)
            .AddTelemetrySdk()
            .AddAttributes(settings.ResourceAttributes.Select(a => new KeyValuePair<string, object>(a.Key, a.Value)));

    internal static void Point(OtlpExporterOptions exporter, TelemetrySettings settings, string signalPath)
    {
        exporter.Protocol = settings.Protocol;
        exporter.Endpoint = settings.SignalEndpoint(signalPath);
    }
}

/// <summary>
/// Owns the tracer and meter providers for the lifetime of the host: created before any hosted
/// service starts (so the server's first requests are traced) and disposed, which flushes what is
/// buffered, after every hosted service has stopped.
/// </summary>
internal sealed class TelemetryProviders(TelemetrySettings settings) : IHostedLifecycleService, IDisposable
{
    private TracerProvider? _tracerProvider;
    private MeterProvider? _meterProvider;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _tracerProvider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(TelemetryExtensions.CreateResource(settings))
            .AddSource([.. TelemetryExtensions.TracedSources])
            .AddOtlpExporter(exporter => TelemetryExtensions.Point(exporter, settings, "v1/traces"))
            .Build();
        _meterProvider = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(TelemetryExtensions.CreateResource(settings))
            .AddMeter([.. TelemetryExtensions.MeteredSources])
            .AddOtlpExporter(exporter => TelemetryExtensions.Point(exporter, settings, "v1/metrics"))
            .Build();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _tracerProvider?.Dispose();
        _tracerProvider = null;
        _meterProvider?.Dispose();
        _meterProvider = null;
    }
}
