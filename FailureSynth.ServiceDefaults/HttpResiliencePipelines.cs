using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace FailureSynth.ServiceDefaults;

/// <summary>
/// One resilience pipeline per destination (scheme, host and port), kept for the life of the
/// service: the HttpClient factory rebuilds handler chains every few minutes, and the circuit
/// breaker's memory of a destination's failures must outlive those rebuilds.
/// </summary>
public sealed class HttpResiliencePipelines(IOptions<HttpResilienceOptions> options, ILoggerFactory loggerFactory)
{
    private readonly ConcurrentDictionary<string, ResiliencePipeline<HttpResponseMessage>> _pipelines = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger = loggerFactory.CreateLogger("FailureSynth.ServiceDefaults.HttpResilience");

    /// <summary>The pipeline for calls to this destination, e.g. <c>http://localhost:5000</c>.</summary>
    public ResiliencePipeline<HttpResponseMessage> For(string destination) =>
        _pipelines.GetOrAdd(destination, key => HttpResiliencePipeline.Create(options.Value, _logger, key));
}
