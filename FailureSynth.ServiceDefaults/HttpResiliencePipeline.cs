using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace FailureSynth.ServiceDefaults;

/// <summary>
/// Builds the standard pipeline for outgoing HTTP calls, in the order Microsoft's standard handler
/// uses: total timeout, then retry with exponential backoff and jitter, then circuit breaker, then a
/// timeout per attempt (so a hung attempt is cut and retried within the total budget).
/// </summary>
public static class HttpResiliencePipeline
{
    private static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("FailureSynth.HttpRequest");

    /// <summary>Creates a pipeline; <paramref name="logger"/> hears about every retry and circuit change.</summary>
    public static ResiliencePipeline<HttpResponseMessage> Create(HttpResilienceOptions options, ILogger logger, string destination = "")
    {
        IReadOnlyList<string> problems = options.Problems();
        if (problems.Count > 0)
            throw new InvalidOperationException(
                $"The HTTP resilience settings{(destination.Length > 0 ? $" for {destination}" : "")} cannot work: " +
                string.Join(" ", problems) + " Fix them in configuration or leave them out for the defaults.");

        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = destination }
            .AddTimeout(options.TotalRequestTimeout);
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = options.UseJitter,
                Delay = options.RetryDelay,
                DelayGenerator = options.ShouldRetryAfterHeader
                    ? args => ValueTask.FromResult(RetryAfter(args.Outcome.Result))
                    : null,
                OnRetry = args =>
                {
                    HttpRequestMessage? request = args.Context.Properties.GetValue(RequestKey, null!);
                    logger.LogWarning(
                        "HTTP {Method} {Uri} attempt {Attempt} failed ({Failure}); retrying in {DelayMs} ms",
                        request?.Method, request?.RequestUri, args.AttemptNumber + 1, Describe(args.Outcome), (long)args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            });
        }
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
        {
            ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            FailureRatio = options.CircuitBreakerFailureRatio,
            MinimumThroughput = options.CircuitBreakerMinimumThroughput,
            SamplingDuration = options.CircuitBreakerSamplingDuration,
            BreakDuration = options.CircuitBreakerBreakDuration,
            OnOpened = args =>
            {
                logger.LogWarning("Circuit to {Destination} opened for {BreakMs} ms after {Failure}",
                    destination, (long)args.BreakDuration.TotalMilliseconds, Describe(args.Outcome));
                return ValueTask.CompletedTask;
            },
            OnClosed = _ =>
            {
                logger.LogInformation("Circuit to {Destination} closed again", destination);
                return ValueTask.CompletedTask;
            },
        });
        builder.AddTimeout(options.AttemptTimeout);
        return builder.Build();
    }

    /// <summary>Failures worth another try: no answer at all, a timed-out attempt, a 5xx, 408 or 429.</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => (int)response.StatusCode >= 500
            || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests,
        _ => false,
    };

    /// <summary>Runs one call through the pipeline, keeping the request at hand for the retry log.</summary>
    internal static async Task<HttpResponseMessage> SendAsync(
        ResiliencePipeline<HttpResponseMessage> pipeline,
        HttpRequestMessage request,
        Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> send,
        CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(RequestKey, request);
        try
        {
            return await pipeline.ExecuteAsync(
                static async (ctx, state) => await state.send(state.request, ctx.CancellationToken).ConfigureAwait(false),
                context,
                (request, send)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        RetryConditionHeaderValue? retryAfter = response?.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta) return delta;
        if (retryAfter?.Date is { } date)
        {
            TimeSpan wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return null;
    }

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } exception
            ? exception.GetType().Name + ": " + exception.Message
            : $"{(int?)outcome.Result?.StatusCode} {outcome.Result?.ReasonPhrase}";
}
