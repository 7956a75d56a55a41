using System.Globalization;
using FailureSynth.ApiSecurity;
using FailureSynth.Loop.Campaigns;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;

namespace FailureSynth.Trainer;

/// <summary>
/// The campaign API's limits, from the <c>FailureSynth:Api</c> configuration section (and <c>FailureSynth:Limits</c>
/// for the campaign budgets): what one client, and all clients together, may ask of the Trainer.
/// </summary>
public sealed record CampaignApiOptions(
    int PermitsPerMinute,
    int ConcurrentRequests,
    int ActiveCampaigns,
    long MaxRequestBodyBytes,
    CampaignLimits Limits)
{
    public const string Section = "FailureSynth:Api";
    public const string LimitsSection = "FailureSynth:Limits";

    public static CampaignApiOptions From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var api = configuration.GetSection(Section);
        var limits = configuration.GetSection(LimitsSection);
        var d = CampaignLimits.Server;
        int Limit(string key, int fallback) => Positive(limits, key, fallback, LimitsSection);
        return new CampaignApiOptions(
            // 20 a second: room for status polling (the AppHost polls 4 times a second, the system tests 10), none for a flood.
            Positive(api, "PermitsPerMinute", 1200, Section),
            Positive(api, "ConcurrentRequests", 16, Section),
            // 0 is allowed: a Trainer that takes no new campaigns (still validates them, and serves the finished ones).
            Math.Max(0, api.GetValue("ActiveCampaigns", 4)),
            Positive(api, "MaxRequestBodyBytes", 1024 * 1024, Section),
            new CampaignLimits(
                Limit(nameof(d.Iterations), d.Iterations), Limit(nameof(d.SplitCount), d.SplitCount), Limit(nameof(d.BaseSteps), d.BaseSteps),
                Limit(nameof(d.Failures), d.Failures), Limit(nameof(d.Samples), d.Samples), Limit(nameof(d.TrainSteps), d.TrainSteps),
                Limit(nameof(d.PoolCount), d.PoolCount), Limit(nameof(d.PriorSamples), d.PriorSamples), Limit(nameof(d.PerSkillCap), d.PerSkillCap),
                Limit(nameof(d.Lambda), d.Lambda), Limit(nameof(d.Threads), d.Threads)));
    }

    private static int Positive(IConfigurationSection section, string key, int fallback, string name)
    {
        int value = section.GetValue(key, fallback);
        return value >= 1 ? value : throw new InvalidOperationException($"{name}:{key} must be at least 1 (got {value}).");
    }
}

/// <summary>The campaign API key: the configured one, or one made up for this run and shown once on the console.</summary>
public static class CampaignApiKey
{
    public const string ConfigurationKey = "FailureSynth:ApiKey";
    public const int MinimumLength = ApiKey.MinimumLength;

    /// <summary>
    /// The key from <see cref="ConfigurationKey"/>; when none is set, a random one written once to
    /// <paramref name="console"/> (the process's own console), never to a logger: logs leave the process over OTLP.
    /// </summary>
    public static string FromConfiguration(IConfiguration configuration, TextWriter console) =>
        ApiKey.FromConfiguration(configuration, ConfigurationKey, "campaign API", "set FailureSynth__ApiKey to choose one", console);
}

/// <summary>
/// What stands between a hostile caller and the Trainer (OWASP API Security Top 10, 2023; docs/security.md): request
/// size, per-client rate and overall concurrency limits, security headers, and errors as problem details that carry
/// no stack trace and no server path.
/// </summary>
public static class CampaignApiSecurity
{
    public const string RatePolicy = "campaign-api";

    public static WebApplicationBuilder AddCampaignApiSecurity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = CampaignApiOptions.From(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.Services.AddProblemDetails(p => p.CustomizeProblemDetails = context =>
        {
            // Only what the handler chose to say: never the exception (its message may hold a path).
            context.ProblemDetails.Extensions.Remove("exception");
            if (context.Exception is BadHttpRequestException bad)
            {
                context.ProblemDetails.Detail = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? $"the request body is larger than {options.MaxRequestBodyBytes} bytes, this server's limit"
                    : "the request is malformed";
            }
            else if (context.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType && context.ProblemDetails.Detail is null)
            {
                // Routing refuses a body type the endpoint does not accept before the handler runs: say what it takes.
                context.ProblemDetails.Detail = $"'{context.HttpContext.Request.ContentType ?? "none"}' is not accepted here: send the campaign as YAML (Content-Type application/yaml or text/plain)";
            }
            else if (context.ProblemDetails.Status >= 500)
            {
                context.ProblemDetails.Detail = "the server failed on this request; its log has the details";
            }
        });
        var limits = new HttpApiLimits(options.PermitsPerMinute, options.ConcurrentRequests, options.MaxRequestBodyBytes);
        builder.Services.AddHttpApiKestrelLimits(limits);
        builder.Services.AddHttpApiRateLimits(limits, RatePolicy, IsApi, (http, refusal, retry, cancellationToken) =>
            http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails =
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many requests",
                    Detail = refusal == Refusal.Rate
                        ? $"more than {options.PermitsPerMinute} requests a minute from this client; retry after {Math.Ceiling(retry!.Value.TotalSeconds)} s"
                        : $"the campaign API is already answering {options.ConcurrentRequests} requests; retry shortly",
                },
            }));
        return builder;
    }

    /// <summary>Goes before the endpoints: problem details for errors, security headers, then the rate limiter.</summary>
    public static WebApplication UseCampaignApiSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Outermost: the exception handler clears the headers of a failed response before it answers.
        app.UseSecurityHeaders(IsApi);
        // A request Kestrel refused while it was read (body over the limit, bad framing) keeps its 4xx status.
        app.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError });
        app.UseStatusCodePages();
        app.UseRateLimiter();
        return app;
    }

    public static bool IsApi(PathString path) =>
        path.StartsWithSegments("/campaigns", StringComparison.Ordinal) || path.StartsWithSegments("/bench", StringComparison.Ordinal);
}
