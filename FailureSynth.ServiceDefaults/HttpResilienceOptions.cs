using System.Globalization;

namespace FailureSynth.ServiceDefaults;

/// <summary>
/// Settings of the resilience pipeline around every outgoing HTTP call. The defaults are those of
/// Microsoft's standard resilience handler, which Aspire's ServiceDefaults add to every HttpClient;
/// they can be changed in configuration under <see cref="SectionName"/>.
/// </summary>
public sealed class HttpResilienceOptions
{
    /// <summary>The configuration section the options bind to, e.g. <c>HttpResilience__MaxRetryAttempts=5</c>.</summary>
    public const string SectionName = "HttpResilience";

    /// <summary>Limit on the whole call, retries and their waits included.</summary>
    public TimeSpan TotalRequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Limit on one attempt; a timed-out attempt is retried.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries after the first attempt (so at most this plus one attempts).</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Wait before the first retry; it doubles for each further retry.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Spreads the retry waits randomly so that many clients do not retry in step.</summary>
    public bool UseJitter { get; set; } = true;

    /// <summary>Honour a <c>Retry-After</c> header on 429/503 answers instead of the computed wait.</summary>
    public bool ShouldRetryAfterHeader { get; set; } = true;

    /// <summary>Share of failed calls within <see cref="CircuitBreakerSamplingDuration"/> that opens the circuit.</summary>
    public double CircuitBreakerFailureRatio { get; set; } = 0.1;

    /// <summary>Calls needed within the sampling window before the failure ratio is judged.</summary>
    public int CircuitBreakerMinimumThroughput { get; set; } = 100;

    /// <summary>The window over which the failure ratio is measured.</summary>
    public TimeSpan CircuitBreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit rejects calls before it lets one through to test the server.</summary>
    public TimeSpan CircuitBreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan MinimumTimeout = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaximumWait = TimeSpan.FromDays(1);

    /// <summary>Names every setting that cannot work (empty when all are usable).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Require(bool ok, string setting, object value, string rule)
        {
            if (!ok) problems.Add(string.Create(CultureInfo.InvariantCulture, $"{SectionName}:{setting} is {value}; it must be {rule}."));
        }
        // The bounds are Polly's own limits for its strategies.
        Require(TotalRequestTimeout >= MinimumTimeout && TotalRequestTimeout <= MaximumWait, nameof(TotalRequestTimeout), TotalRequestTimeout, "between 10 ms and 1 day");
        Require(AttemptTimeout >= MinimumTimeout && AttemptTimeout <= MaximumWait, nameof(AttemptTimeout), AttemptTimeout, "between 10 ms and 1 day");
        Require(AttemptTimeout <= TotalRequestTimeout, nameof(AttemptTimeout), AttemptTimeout, $"at most {nameof(TotalRequestTimeout)} ({TotalRequestTimeout})");
        Require(MaxRetryAttempts is >= 0 and <= 100, nameof(MaxRetryAttempts), MaxRetryAttempts, "between 0 and 100");
        Require(RetryDelay >= TimeSpan.Zero && RetryDelay <= MaximumWait, nameof(RetryDelay), RetryDelay, "between 0 and 1 day");
        Require(CircuitBreakerFailureRatio is > 0 and <= 1, nameof(CircuitBreakerFailureRatio), CircuitBreakerFailureRatio, "above 0 and at most 1");
        Require(CircuitBreakerMinimumThroughput >= 2, nameof(CircuitBreakerMinimumThroughput), CircuitBreakerMinimumThroughput, "at least 2");
        Require(CircuitBreakerSamplingDuration >= TimeSpan.FromMilliseconds(500), nameof(CircuitBreakerSamplingDuration), CircuitBreakerSamplingDuration, "at least 0.5 s");
        Require(CircuitBreakerBreakDuration >= TimeSpan.FromMilliseconds(500), nameof(CircuitBreakerBreakDuration), CircuitBreakerBreakDuration, "at least 0.5 s");
        return problems;
    }
}
