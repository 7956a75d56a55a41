using System.Globalization;
using System.Security.Cryptography;
using System.Threading.RateLimiting;
using FailureSynth.Loop.Campaigns;
using Microsoft.AspNetCore.Server.Kestrel.Core;
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
    public const int MinimumLength = 16;

    /// <summary>
    /// The key from <see cref="ConfigurationKey"/>; when none is set, a random one written once to
    /// <paramref name="console"/> (the process's own console), never to a logger: logs leave the process over OTLP.
    /// </summary>
    public static string FromConfiguration(IConfiguration configuration, TextWriter console)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(console);
        string? key = configuration[ConfigurationKey];
        if (!string.IsNullOrWhiteSpace(key))
        {
            return key.Length >= MinimumLength
                ? key
                : throw new InvalidOperationException($"{ConfigurationKey} is {key.Length} characters long; use at least {MinimumLength} (or leave it unset for a random one).");
        }
        key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        console.WriteLine($"{ConfigurationKey} is not set; this run's campaign API key is {key} (shown once, here only; set FailureSynth__ApiKey to choose one)");
        console.Flush();
        return key;
    }
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
        builder.Services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
        });
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                string detail;
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retry))
                {
                    http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                    detail = $"more than {options.PermitsPerMinute} requests a minute from this client; retry after {Math.Ceiling(retry.TotalSeconds)} s";
                }
                else
                {
                    detail = $"the campaign API is already answering {options.ConcurrentRequests} requests; retry shortly";
                }
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests", Detail = detail },
                }).ConfigureAwait(false);
            };
            limiter.AddPolicy(RatePolicy, http => RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = options.PermitsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            // All clients together: the API's requests in flight at once (a slow upload holds its permit).
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => IsApi(http.Request.Path)
                ? RateLimitPartition.GetConcurrencyLimiter("api", _ => new ConcurrencyLimiterOptions { PermitLimit = options.ConcurrentRequests, QueueLimit = 0 })
                : RateLimitPartition.GetNoLimiter("other"));
        });
        return builder;
    }

    /// <summary>Goes before the endpoints: problem details for errors, security headers, then the rate limiter.</summary>
    public static WebApplication UseCampaignApiSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Outermost, and on OnStarting: the exception handler clears the headers of a failed response before it answers.
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                if (IsApi(context.Request.Path))
                {
                    // API answers are data, never a page: nothing to load, frame or keep in a cache. The campaign page
                    // is the one page among them and sets its own policy (as strict, but its script, styles and images run).
                    if (string.IsNullOrEmpty(headers.ContentSecurityPolicy)) headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
                    headers.CacheControl = "no-store";
                }
                else
                {
                    headers.ContentSecurityPolicy = "frame-ancestors 'none'";
                }
                return Task.CompletedTask;
            });
            return next(context);
        });
        // A request Kestrel refused while it was read (body over the limit, bad framing) keeps its 4xx status.
        app.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError });
        app.UseStatusCodePages();
        app.UseRateLimiter();
        return app;
    }

    public static bool IsApi(PathString path) =>
        path.StartsWithSegments("/campaigns", StringComparison.Ordinal) || path.StartsWithSegments("/bench", StringComparison.Ordinal);
}
