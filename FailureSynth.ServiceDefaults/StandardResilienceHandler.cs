namespace FailureSynth.ServiceDefaults;

/// <summary>
/// The HttpClient handler that sends every request through a resilience pipeline (retry, circuit
/// breaker, timeouts): our equivalent of Microsoft.Extensions.Http.Resilience's standard handler,
/// with one pipeline per destination so that one failing server does not open the circuit to others.
/// </summary>
public sealed class StandardResilienceHandler(HttpResiliencePipelines pipelines) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string destination = request.RequestUri is { IsAbsoluteUri: true } uri ? uri.GetLeftPart(UriPartial.Authority) : "";
        return HttpResiliencePipeline.SendAsync(pipelines.For(destination), request, base.SendAsync, cancellationToken);
    }
}
