using FailureSynth.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The defaults every FailureSynth service shares, named as Aspire's ServiceDefaults are so that
/// a real Aspire AppHost can host the services unchanged: health endpoints, OpenTelemetry and
/// resilient outgoing HTTP. RabbitMQ and Redis clients join this folder with the services (see ARCHITECTURE §6).
/// </summary>
public static class ServiceDefaultsExtensions
{
    private const string AliveTag = "live";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler());
        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            // The process answers: the liveness probe needs nothing more.
            .AddCheck("self", () => HealthCheckResult.Healthy(), [AliveTag]);
        return builder;
    }

    /// <summary>
    /// Sends the client's requests through the standard resilience pipeline (Aspire's name for it),
    /// with <see cref="HttpResilienceOptions"/> bound from the <c>HttpResilience</c> configuration section.
    /// </summary>
    public static IHttpClientBuilder AddStandardResilienceHandler(this IHttpClientBuilder http)
    {
        http.Services.AddOptions<HttpResilienceOptions>().BindConfiguration(HttpResilienceOptions.SectionName).ValidateOnStart();
        http.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HttpResilienceOptions>, HttpResilienceOptionsValidator>());
        http.Services.TryAddSingleton<HttpResiliencePipelines>();
        http.ConfigureAdditionalHttpMessageHandlers(static (handlers, services) =>
            // First, so that it wraps every other handler and each retry passes through them again.
            handlers.Insert(0, new StandardResilienceHandler(services.GetRequiredService<HttpResiliencePipelines>())));
        return http;
    }

    /// <summary>Maps <c>/health</c> (every check: ready to serve) and <c>/alive</c> (liveness only).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains(AliveTag) });
        return app;
    }
}

/// <summary>Rejects resilience settings that cannot work when the options are first used, naming each setting.</summary>
internal sealed class HttpResilienceOptionsValidator : IValidateOptions<HttpResilienceOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpResilienceOptions options) =>
        options.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
