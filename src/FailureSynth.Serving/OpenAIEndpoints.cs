using System.Text.Json;
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
    public static IEndpointRouteBuilder MapOpenAIModel(this IEndpointRouteBuilder app, IChatModel model, ServeLimits? limits = null)
    {
        var l = limits ?? new ServeLimits();
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var card = new ModelCard(model.Id, "model", created, "failuresynth");
        app.MapGet("/v1/models", () => Results.Json(new ModelList("list", [card]), OpenAIWire.Options));
        app.MapGet("/v1/models/{**id}", (string id) => id == model.Id
            ? Results.Json(card, OpenAIWire.Options)
            : Error(new OpenAIRequestException(404, $"The model '{ChatRequest.Clip(id)}' does not exist; this server serves '{model.Id}'.", param: "model", code: "model_not_found")));
        app.MapPost("/v1/chat/completions", async (HttpContext http, ILoggerFactory loggers) =>
        {
            try
            {
                if (http.Request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
                    throw new OpenAIRequestException(415, "The request must be JSON (Content-Type: application/json).", code: "unsupported_media_type");
                byte[] body = await ReadBodyAsync(http.Request, l.MaxRequestBytes, http.RequestAborted).ConfigureAwait(false);
                var request = ChatRequest.Parse(body, l);
                if (request.Model != model.Id)
                    throw new OpenAIRequestException(404, $"The model '{ChatRequest.Clip(request.Model)}' does not exist; this server serves '{model.Id}' (GET /v1/models).", param: "model", code: "model_not_found");
                var answer = await model.CompleteAsync(request, http.RequestAborted).ConfigureAwait(false);
                int completion = Math.Max(1, answer.Tokens.Count > 0 ? answer.Tokens.Count : StudentChatModel.EstimateTokens(answer.Content));
                var reply = new ChatCompletion("chatcmpl-" + Guid.NewGuid().ToString("N"), "chat.completion", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model.Id,
                    [new ChatChoice(0, new ChatMessage("assistant", answer.Content), request.Logprobs && answer.Tokens.Count > 0 ? new ChatLogprobs(answer.Tokens) : null, "stop")],
                    new ChatUsage(answer.PromptTokens, completion, answer.PromptTokens + completion));
                return Results.Json(reply, OpenAIWire.Options);
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
                loggers.CreateLogger("FailureSynth.Serving").LogError(e, "The served model {Model} failed on a request", model.Id);
                return Error(new OpenAIRequestException(500, "The served model failed on this request; the server log has the details.", "server_error", code: "internal_error"));
            }
        });
        return app;
    }

    /// <summary>
    /// Starts <paramref name="model"/> on http://127.0.0.1:<paramref name="port"/> (0: a free port); loopback only, since the
    /// served models have no authentication.
    /// </summary>
    public static async Task<WebApplication> StartAsync(IChatModel model, int port, ServeLimits? limits = null, LogLevel minimumLevel = LogLevel.Warning, CancellationToken cancellationToken = default)
    {
        var l = limits ?? new ServeLimits();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(minimumLevel);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, port);
            // The model checks the size itself to answer in OpenAI's shape; Kestrel's cap stops anything far larger.
            k.Limits.MaxRequestBodySize = 2L * l.MaxRequestBytes;
        });
        var app = builder.Build();
        app.MapOpenAIModel(model, l);
        app.MapFallback((HttpContext http) => Error(new OpenAIRequestException(404, $"No route {http.Request.Method} {ChatRequest.Clip(http.Request.Path.Value ?? "")}; this server answers GET /v1/models and POST /v1/chat/completions.", code: "not_found")));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return app;
    }

    /// <summary>The base URL a started server listens on, e.g. http://127.0.0.1:41234.</summary>
    public static Uri BaseAddress(WebApplication app) => new(app.Urls.First());

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
