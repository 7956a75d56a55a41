using System.Text.Json;
using FailureSynth.ApiSecurity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FailureSynth.Serving;

/// <summary>
/// The OpenAI-compatible endpoints of a served model: <c>GET /v1/models</c>, <c>GET /v1/models/{id}</c> and
/// <c>POST /v1/chat/completions</c> (non-streaming), with every refusal in OpenAI's error shape.
/// </summary>
public static class OpenAIEndpoints
{
    /// <summary>
    /// Maps the endpoints. With <paramref name="key"/>, every /v1 request needs <c>Authorization: Bearer KEY</c>; the
    /// rate and concurrency limits apply where <see cref="ServedModelSecurity.AddServedModelSecurity"/> and
    /// <see cref="ServedModelSecurity.UseServedModelSecurity"/> set the host up (as <see cref="StartAsync"/> does).
    /// </summary>
    public static IEndpointRouteBuilder MapOpenAIModel(this IEndpointRouteBuilder app, IChatModel model, ServeLimits? limits = null, ApiKey? key = null) =>
        app.MapOpenAIModels(new ServedModels(model), limits, key);

    /// <summary>As <see cref="MapOpenAIModel"/>, for every model of <paramref name="models"/> (a request's <c>model</c> picks one).</summary>
    public static IEndpointRouteBuilder MapOpenAIModels(this IEndpointRouteBuilder app, ServedModels models, ServeLimits? limits = null, ApiKey? key = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        var l = limits ?? new ServeLimits();
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        ModelCard Card(string id) => new(id, "model", created, "failuresynth");
        var v1 = app.MapGroup("/v1");
        v1.RequireRateLimiting(ServedModelSecurity.RatePolicy);
        if (key is not null) v1.AddEndpointFilter((context, next) => ServedModelSecurity.RequireKey(key, context, next));
        v1.MapGet("/models", () => Results.Json(new ModelList("list", [.. models.Ids.Select(Card)]), OpenAIWire.Options));
        v1.MapGet("/models/{**id}", (string id) => models.Find(id) is not null
            ? Results.Json(Card(id), OpenAIWire.Options)
            : Error(new OpenAIRequestException(404, $"The model '{ChatRequest.Clip(id)}' does not exist; this server serves {Served(models)}.", param: "model", code: "model_not_found")));
        v1.MapPost("/chat/completions", async (HttpContext http, ILoggerFactory loggers) =>
        {
            try
            {
                if (http.Request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
                    throw new OpenAIRequestException(415, "The request must be JSON (Content-Type: application/json).", code: "unsupported_media_type");
                byte[] body = await ReadBodyAsync(http.Request, l.MaxRequestBytes, http.RequestAborted).ConfigureAwait(false);
                // Serialised here, inside the try: a value JSON cannot carry (NaN) is a server error in OpenAI's shape, not a broken response.
                byte[] reply = JsonSerializer.SerializeToUtf8Bytes(await AnswerAsync(models, body, l, http.RequestAborted).ConfigureAwait(false), OpenAIWire.Options);
                return Results.Bytes(reply, "application/json");
            }
            catch (OpenAIRequestException e)
            {
                return Error(e);
            }
            catch (BadHttpRequestException e)
            {
                // Kestrel stopped reading the body (over its cap, or bad framing): its status, in OpenAI's shape.
                return Error(new OpenAIRequestException(e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? $"The request body is larger than {l.MaxRequestBytes} bytes, the most this server accepts." : "The request body could not be read.",
                    code: e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "request_too_large" : "invalid_request"));
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                return Results.Empty;
            }
            catch (Exception e)
            {
                loggers.CreateLogger("FailureSynth.Serving").LogError(e, "The served model {Model} failed on a request", models.First.Id);
                return Error(new OpenAIRequestException(500, "The served model failed on this request; the server log has the details.", "server_error", code: "internal_error"));
            }
        });
        return app;
    }

    /// <summary>The longest image prompt the images endpoint takes (OpenAI's dall-e-3 limit).</summary>
    public const int MaxImagePromptChars = 4000;

    /// <summary>
    /// <c>POST /v1/images/generations</c> of <paramref name="model"/>: one square picture per request, always as
    /// <c>b64_json</c> (a PNG; this server hands out no URLs), every refusal in OpenAI's error shape. The same key and
    /// rate limit as <see cref="MapOpenAIModel"/>.
    /// </summary>
    public static IEndpointRouteBuilder MapOpenAIImages(this IEndpointRouteBuilder app, IImageModel model, ServeLimits? limits = null, ApiKey? key = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var l = limits ?? new ServeLimits();
        var images = app.MapPost("/v1/images/generations", async (HttpContext http, ILoggerFactory loggers) =>
        {
            try
            {
                if (http.Request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
                    throw new OpenAIRequestException(415, "The request must be JSON (Content-Type: application/json).", code: "unsupported_media_type");
                byte[] body = await ReadBodyAsync(http.Request, l.MaxRequestBytes, http.RequestAborted).ConfigureAwait(false);
                var (prompt, size) = ReadImageRequest(body, model.Id, l);
                var image = await model.GenerateAsync(prompt, size, http.RequestAborted).ConfigureAwait(false);
                string png = Convert.ToBase64String(FailureSynth.Imaging.PngEncoder.Encode(image));
                return Results.Json(new ImagesResponse(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), [new ImageDatum(png, null, null)]), OpenAIWire.Options);
            }
            catch (OpenAIRequestException e)
            {
                return Error(e);
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                return Results.Empty;
            }
            catch (Exception e)
            {
                loggers.CreateLogger("FailureSynth.Serving").LogError(e, "The served image model {Model} failed on a request", model.Id);
                return Error(new OpenAIRequestException(500, "The served image model failed on this request; the server log has the details.", "server_error", code: "internal_error"));
            }
        });
        images.RequireRateLimiting(ServedModelSecurity.RatePolicy);
        if (key is not null) images.AddEndpointFilter((context, next) => ServedModelSecurity.RequireKey(key, context, next));
        return app;
    }

    /// <summary>The prompt and the side of a validated images request: model, prompt, n = 1, a square size, response_format b64_json.</summary>
    public static (string Prompt, int Size) ReadImageRequest(ReadOnlySpan<byte> body, string modelId, ServeLimits limits)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (JsonException e) { throw new OpenAIRequestException(400, $"The request body is not valid JSON: {e.Message}", code: "invalid_json"); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw ChatRequest.Invalid("The request body must be a JSON object.", null);
            string? Str(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            string model = Str("model") is { Length: > 0 } m ? m : throw ChatRequest.Invalid("model must be a non-empty string.", "model");
            if (model != modelId)
                throw new OpenAIRequestException(404, $"The model '{ChatRequest.Clip(model)}' does not exist; this server draws with '{modelId}'.", param: "model", code: "model_not_found");
            string prompt = Str("prompt") is { } p && !string.IsNullOrWhiteSpace(p) ? p : throw ChatRequest.Invalid("prompt must be a non-empty string.", "prompt");
            if (prompt.Length > MaxImagePromptChars) throw ChatRequest.Invalid($"prompt has {prompt.Length} characters; at most {MaxImagePromptChars}.", "prompt");
            if (root.TryGetProperty("n", out var n) && n.ValueKind != JsonValueKind.Null && !(n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out int count) && count == 1))
                throw ChatRequest.Invalid("n must be 1 on this server.", "n");
            if (root.TryGetProperty("response_format", out var rf) && rf.ValueKind != JsonValueKind.Null && !(rf.ValueKind == JsonValueKind.String && rf.GetString() == "b64_json"))
                throw ChatRequest.Invalid("response_format must be b64_json: this server hands out no image URLs.", "response_format");
            int size = 1024;
            if (root.TryGetProperty("size", out var sz) && sz.ValueKind != JsonValueKind.Null)
            {
                string[] sides = sz.ValueKind == JsonValueKind.String ? sz.GetString()!.Split('x') : [];
                if (sides.Length != 2 || !int.TryParse(sides[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int w)
                    || !int.TryParse(sides[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int h) || w != h || w < 16 || w > limits.MaxImageSide)
                    throw ChatRequest.Invalid($"size must be a square 'NxN' with N in 16..{limits.MaxImageSide}.", "size");
                size = w;
            }
            return (prompt, size);
        }
    }

    /// <summary>
    /// What <c>POST /v1/chat/completions</c> does with a request body once it is read: parse and check it, refuse another
    /// model, ask the model. Every refusal is an <see cref="OpenAIRequestException"/> (4xx); anything else thrown is a
    /// server error (the fuzz target <c>serve-body</c> runs this on mutated bodies).
    /// </summary>
    public static Task<ChatCompletion> AnswerAsync(IChatModel model, ReadOnlyMemory<byte> body, ServeLimits limits, CancellationToken cancellationToken) =>
        AnswerAsync(new ServedModels(model), body, limits, cancellationToken);

    /// <summary>As the single-model <see cref="AnswerAsync(IChatModel, ReadOnlyMemory{byte}, ServeLimits, CancellationToken)"/>; the request's model picks one of <paramref name="models"/>.</summary>
    public static async Task<ChatCompletion> AnswerAsync(ServedModels models, ReadOnlyMemory<byte> body, ServeLimits limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(limits);
        var request = ChatRequest.Parse(body.Span, limits);
        var model = models.Find(request.Model)
            ?? throw new OpenAIRequestException(404, $"The model '{ChatRequest.Clip(request.Model)}' does not exist; this server serves {Served(models)} (GET /v1/models).", param: "model", code: "model_not_found");
        var answer = await model.CompleteAsync(request, cancellationToken).ConfigureAwait(false);
        int completion = Math.Max(1, answer.Tokens.Count > 0 ? answer.Tokens.Count : OpenAIWire.EstimateTokens(answer.Content));
        return new ChatCompletion("chatcmpl-" + Guid.NewGuid().ToString("N"), "chat.completion", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model.Id,
            [new ChatChoice(0, new ChatMessage("assistant", answer.Content), request.Logprobs && answer.Tokens.Count > 0 ? new ChatLogprobs(answer.Tokens) : null, "stop")],
            new ChatUsage(answer.PromptTokens, completion, answer.PromptTokens + completion));
    }

    /// <summary>
    /// Starts <paramref name="model"/> on http://127.0.0.1:<paramref name="port"/> (0: a free port), loopback only, with
    /// the served models' defences (<see cref="ServedModelSecurity"/>). With <paramref name="key"/> every /v1 request
    /// needs it (<c>failuresynth serve</c> always sets one); without, the server answers anyone on this machine (tests).
    /// </summary>
    /// <param name="images">An image model also served on the same port (<c>POST /v1/images/generations</c>), or null.</param>
    /// <param name="load">
    /// Loads weights by name and server-side path for <c>POST /v1/load_lora_adapter</c> (<see cref="ModelLoading"/>); null: the route is not served.
    /// </param>
    public static async Task<WebApplication> StartAsync(IChatModel model, int port, ServeLimits? limits = null, LogLevel minimumLevel = LogLevel.Warning, CancellationToken cancellationToken = default, ApiKey? key = null,
        IImageModel? images = null, Func<string, string, CancellationToken, Task<IChatModel>>? load = null)
    {
        var l = limits ?? new ServeLimits();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(minimumLevel);
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
        builder.Services.AddServedModelSecurity(l);
        var app = builder.Build();
        app.UseServedModelSecurity();
        var models = new ServedModels(model);
        app.MapOpenAIModels(models, l, key);
        if (images is not null) app.MapOpenAIImages(images, l, key);
        if (load is not null) app.MapModelLoading(models, load, key);
        app.MapFallback((HttpContext http) => Error(new OpenAIRequestException(404, $"No route {http.Request.Method} {ChatRequest.Clip(http.Request.Path.Value ?? "")}; this server answers GET /v1/models and POST /v1/chat/completions.", code: "not_found")));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return app;
    }

    /// <summary>The base URL a started server listens on, e.g. http://127.0.0.1:41234.</summary>
    public static Uri BaseAddress(WebApplication app) => new(app.Urls.First());

    // The served ids for an error message: the first few, quoted.
    private static string Served(ServedModels models)
    {
        var ids = models.Ids;
        return string.Join(", ", ids.Take(5).Select(i => $"'{i}'")) + (ids.Count > 5 ? $" and {ids.Count - 5} more" : "");
    }

    public static IResult Error(OpenAIRequestException e) => Results.Json(e.Body, OpenAIWire.Options, statusCode: e.Status);

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength is long length && length > limit)
            throw new OpenAIRequestException(413, $"The request body is {length} bytes; this server accepts at most {limit}.", code: "request_too_large");
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
                throw new OpenAIRequestException(413, $"The request body is larger than {limit} bytes, the most this server accepts.", code: "request_too_large");
        }
        return buffer.ToArray();
    }
}
