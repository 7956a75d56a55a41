using FailureSynth.ApiSecurity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FailureSynth.Serving;

/// <summary>
/// The served models' defences (OWASP API Security Top 10, 2023; docs/security.md), shared with the campaign API through
/// <see cref="HttpApiSecurity"/>: Kestrel's limits, a per-client rate and an overall concurrency limit, security headers,
/// the API key (<c>Authorization: Bearer KEY</c>, as OpenAI clients send it) and errors in OpenAI's shape, never a stack
/// trace or a path.
/// </summary>
public static class ServedModelSecurity
{
    public const string RatePolicy = "openai-api";

    /// <summary>The OpenAI-compatible paths: rate, concurrency and the API-only headers apply to them.</summary>
    public static bool IsApi(PathString path) => path.StartsWithSegments("/v1", StringComparison.Ordinal);

    public static IServiceCollection AddServedModelSecurity(this IServiceCollection services, ServeLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        // Kestrel's cap is twice the model's own limit: the model checks the size itself to answer in OpenAI's shape.
        var http = new HttpApiLimits(limits.PermitsPerMinute, limits.ConcurrentRequests, 2L * limits.MaxRequestBytes);
        services.AddHttpApiKestrelLimits(http);
        services.AddHttpApiRateLimits(http, RatePolicy, IsApi, async (context, refusal, retry, cancellationToken) =>
        {
            var error = refusal == Refusal.Rate
                ? new OpenAIRequestException(429, $"More than {limits.PermitsPerMinute} requests a minute from this client; retry after {Math.Ceiling(retry!.Value.TotalSeconds)} s.", "requests", code: "rate_limit_exceeded")
                : new OpenAIRequestException(429, $"This server is already answering {limits.ConcurrentRequests} requests; retry shortly.", "requests", code: "rate_limit_exceeded");
            await WriteAsync(context, error, cancellationToken).ConfigureAwait(false);
        });
        return services;
    }

    /// <summary>Goes before the endpoints: security headers (outermost), errors in OpenAI's shape, then the rate limiter.</summary>
    public static IApplicationBuilder UseServedModelSecurity(this IApplicationBuilder app)
    {
        app.UseSecurityHeaders(IsApi);
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // Whatever failed outside the handler (a body Kestrel cut off, bad framing, a bug) is answered in OpenAI's
            // shape without the exception: its message may hold a path. The log has it.
            ExceptionHandler = context =>
            {
                var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                var answer = error is BadHttpRequestException bad
                    ? new OpenAIRequestException(bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is larger than this server accepts." : "The request is malformed.", code: bad.StatusCode == 413 ? "request_too_large" : "invalid_request")
                    : new OpenAIRequestException(500, "The server failed on this request; the server log has the details.", "server_error", code: "internal_error");
                return WriteAsync(context, answer, context.RequestAborted);
            },
        });
        app.UseRateLimiter();
        return app;
    }

    /// <summary>An endpoint filter that lets a request through only with <c>Authorization: Bearer KEY</c>; every other answer is one identical 401.</summary>
    public static async ValueTask<object?> RequireKey(ApiKey key, EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        string? header = context.HttpContext.Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
            return OpenAIEndpoints.Error(new OpenAIRequestException(401, "No API key: send it as 'Authorization: Bearer KEY'.", code: "missing_api_key"));
        const string Bearer = "Bearer ";
        string? given = header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) ? header[Bearer.Length..].Trim() : null;
        if (!key.Matches(given))
            return OpenAIEndpoints.Error(new OpenAIRequestException(401, "Incorrect API key in the Authorization header.", code: "invalid_api_key"));
        return await next(context).ConfigureAwait(false);
    }

    private static Task WriteAsync(HttpContext context, OpenAIRequestException error, CancellationToken cancellationToken)
    {
        context.Response.StatusCode = error.Status;
        return context.Response.WriteAsJsonAsync(error.Body, OpenAIWire.Options, cancellationToken);
    }
}
