using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace FailureSynth.ApiSecurity;

/// <summary>Why a request was refused before its handler ran, for the API to answer in its own error shape.</summary>
public enum Refusal
{
    /// <summary>Over the per-client rate; the answer carries Retry-After.</summary>
    Rate,

    /// <summary>Over the concurrency limit of all clients together.</summary>
    Concurrency,
}

/// <summary>
/// The defences every HTTP API of FailureSynth shares (OWASP API Security Top 10, 2023; docs/security.md): Kestrel's
/// size limits and no Server header, a per-client rate and an overall concurrency limit, and security headers. Each API
/// answers refusals in its own shape (problem details for the campaign API, OpenAI's error body for the served models).
/// </summary>
public static class HttpApiSecurity
{
    /// <summary>Kestrel's limits: the body limit, 32 KiB of headers, an 8 KiB request line, and no Server header.</summary>
    public static IServiceCollection AddHttpApiKestrelLimits(this IServiceCollection services, HttpApiLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
        });
    }

    /// <summary>
    /// The rate limiter: policy <paramref name="policy"/> allows <see cref="HttpApiLimits.PermitsPerMinute"/> requests a
    /// minute per client, and all requests whose path <paramref name="isApi"/> accepts share
    /// <see cref="HttpApiLimits.ConcurrentRequests"/> permits. <paramref name="refuse"/> writes the 429 (the status and,
    /// for <see cref="Refusal.Rate"/>, the Retry-After header are set before it runs).
    /// </summary>
    public static IServiceCollection AddHttpApiRateLimits(this IServiceCollection services, HttpApiLimits limits, string policy, Func<PathString, bool> isApi,
        Func<HttpContext, Refusal, TimeSpan?, CancellationToken, ValueTask> refuse)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(isApi);
        ArgumentNullException.ThrowIfNull(refuse);
        return services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retry))
                {
                    http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                    await refuse(http, Refusal.Rate, retry, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await refuse(http, Refusal.Concurrency, null, cancellationToken).ConfigureAwait(false);
                }
            };
            limiter.AddPolicy(policy, http => RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = limits.PermitsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => isApi(http.Request.Path)
                ? RateLimitPartition.GetConcurrencyLimiter("api", _ => new ConcurrencyLimiterOptions { PermitLimit = limits.ConcurrentRequests, QueueLimit = 0 })
                : RateLimitPartition.GetNoLimiter("other"));
        });
    }

    /// <summary>
    /// Security headers on every answer, set when the response starts (an exception handler clears the headers of a failed
    /// response before it answers, so this must be the outermost middleware): nosniff, DENY, no-referrer, and for API
    /// paths a CSP that loads nothing and <c>Cache-Control: no-store</c>.
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app, Func<PathString, bool> isApi)
    {
        ArgumentNullException.ThrowIfNull(isApi);
        return app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                if (isApi(context.Request.Path))
                {
                    // API answers are data, never a page: nothing to load, frame or keep in a cache. A page among them
                    // (the Trainer's live campaign page) sets its own policy, as strict, under which its script, styles and images run.
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
    }
}
