using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using FailureSynth.Loop.Campaigns;

namespace FailureSynth.Backends;

/// <summary>What the HTTP layer saw of one logical call (all its attempts): the last reply's raw body and the statuses.</summary>
public sealed class EndpointExchange
{
    public byte[]? Body { get; set; }
    public int Attempts { get; set; }
    public List<int> Statuses { get; } = [];
}

/// <summary>The endpoint's reply was larger than FailureSynth reads.</summary>
public sealed class ReplyTooLargeException(string message) : IOException(message);

/// <summary>The endpoint did not answer within timeout_s (every attempt).</summary>
public sealed class EndpointTimeoutException(string message) : TimeoutException(message);

/// <summary>
/// The transport policy of one model endpoint, under whatever client sits above it (Semantic Kernel's OpenAI connector,
/// or our own requests): at most max_concurrency requests in flight per endpoint URL (shared by every client of that
/// URL in the process), a per-attempt timeout of timeout_s, retries of 429 and 5xx replies and of network failures
/// (honouring Retry-After / retry-after-ms, else exponential backoff), and a cap on the reply size. The raw body of the
/// reply is kept in the caller's <see cref="EndpointExchange"/> (see <see cref="Current"/>), so log-probabilities can be
/// read at double precision (the OpenAI SDK types them as float).
/// </summary>
public sealed class EndpointHandler : DelegatingHandler
{
    public const int MaxAttempts = 4;
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);
    private static readonly AsyncLocal<EndpointExchange?> Exchange = new();
    private readonly SemaphoreSlim _gate;
    private readonly TimeSpan _timeout;
    private readonly int _maxReplyBytes;
    private readonly string _endpoint;

    public EndpointHandler(ModelEndpoint endpoint, int maxReplyBytes = 4 << 20, HttpMessageHandler? inner = null)
        : base(inner ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint.Endpoint.ToString();
        _gate = Gates.GetOrAdd(_endpoint, _ => new SemaphoreSlim(endpoint.MaxConcurrency, endpoint.MaxConcurrency));
        _timeout = endpoint.Timeout;
        _maxReplyBytes = maxReplyBytes;
    }

    /// <summary>Where the calls of the current async flow record their exchange; set it before a call, read it after.</summary>
    public static EndpointExchange? Current { get => Exchange.Value; set => Exchange.Value = value; }

    /// <summary>Waits slept between attempts (tests shorten them to keep suites fast; the order of magnitude is what is tested).</summary>
    public Func<TimeSpan, CancellationToken, Task> Sleep { get; init; } = Task.Delay;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[]? content = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var exchange = Current;
        for (int attempt = 1; ; attempt++)
        {
            if (exchange is not null) exchange.Attempts++;
            TimeSpan? wait = null;
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_timeout);
                HttpResponseMessage response;
                try
                {
                    response = await base.SendAsync(Copy(request, content), timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    if (attempt >= MaxAttempts)
                        throw new EndpointTimeoutException($"{_endpoint} did not answer within {_timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s ({attempt} attempts); raise timeout_s or check the server.");
                    exchange?.Statuses.Add(0);
                    wait = Backoff(attempt);
                    goto Retry;
                }
                catch (HttpRequestException e) when (attempt < MaxAttempts)
                {
                    exchange?.Statuses.Add(0);
                    _ = e;
                    wait = Backoff(attempt);
                    goto Retry;
                }
                using (response)
                {
                    int status = (int)response.StatusCode;
                    exchange?.Statuses.Add(status);
                    byte[] body = await ReadCappedAsync(response.Content, timeout.Token).ConfigureAwait(false);
                    if ((status == 429 || status >= 500) && attempt < MaxAttempts)
                    {
                        wait = RetryAfter(response) ?? Backoff(attempt);
                        if (wait > MaxRetryAfter)
                            throw new HttpRequestException($"{_endpoint} answered {status} and asked to retry after {wait.Value.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s, more than the {MaxRetryAfter.TotalSeconds} s FailureSynth waits.", null, response.StatusCode);
                        goto Retry;
                    }
                    if (exchange is not null) exchange.Body = body;
                    var result = new HttpResponseMessage(response.StatusCode) { RequestMessage = request, Version = response.Version, ReasonPhrase = response.ReasonPhrase };
                    foreach (var h in response.Headers) result.Headers.TryAddWithoutValidation(h.Key, h.Value);
                    result.Content = new ByteArrayContent(body);
                    foreach (var h in response.Content.Headers) result.Content.Headers.TryAddWithoutValidation(h.Key, h.Value);
                    return result;
                }
            }
            finally
            {
                _gate.Release();
            }
        Retry:
            // The slot is released while waiting: other calls may use the endpoint meanwhile.
            await Sleep(wait!.Value, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<byte[]> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is long length && length > _maxReplyBytes)
            throw new ReplyTooLargeException($"{_endpoint} sent a reply of {length} bytes; FailureSynth reads at most {_maxReplyBytes}.");
        using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[65536];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > _maxReplyBytes)
                throw new ReplyTooLargeException($"{_endpoint} sent a reply of more than {_maxReplyBytes} bytes, the most FailureSynth reads.");
        }
        return buffer.ToArray();
    }

    /// <summary>The wait a 429/503 asks for: OpenAI's retry-after-ms, else Retry-After in seconds or as a date.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var ms) && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out double m) && m >= 0)
            return TimeSpan.FromMilliseconds(m);
        if (response.Headers.RetryAfter is { } r)
        {
            if (r.Delta is { } d) return d < TimeSpan.Zero ? TimeSpan.Zero : d;
            if (r.Date is { } date) { var left = date - DateTimeOffset.UtcNow; return left < TimeSpan.Zero ? TimeSpan.Zero : left; }
        }
        return null;
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(250 * Math.Pow(2, attempt - 1));

    private static HttpRequestMessage Copy(HttpRequestMessage request, byte[]? content)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var h in request.Headers) copy.Headers.TryAddWithoutValidation(h.Key, h.Value);
        if (content is not null)
        {
            copy.Content = new ByteArrayContent(content);
            foreach (var h in request.Content!.Headers) copy.Content.Headers.TryAddWithoutValidation(h.Key, h.Value);
        }
        return copy;
    }

    /// <summary>An HttpClient for <paramref name="endpoint"/> with this policy (the client's own timeout is off: the policy's applies per attempt).</summary>
    public static HttpClient Client(ModelEndpoint endpoint, HttpMessageHandler? inner = null, Func<TimeSpan, CancellationToken, Task>? sleep = null) =>
        new(new EndpointHandler(endpoint, inner: inner) { Sleep = sleep ?? Task.Delay }) { Timeout = Timeout.InfiniteTimeSpan };

    internal static HttpStatusCode? StatusOf(Exception e) => e is HttpRequestException h ? h.StatusCode : null;
}
