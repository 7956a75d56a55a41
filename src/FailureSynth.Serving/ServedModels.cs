using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using FailureSynth.ApiSecurity;

namespace FailureSynth.Serving;

/// <summary>
/// The models one server answers for: the one it started with and, where loading is allowed, those loaded since by name
/// (<see cref="ModelLoading.MapModelLoading"/>). A request's <c>model</c> picks one.
/// </summary>
public sealed class ServedModels
{
    /// <summary>The most models one server holds (each loaded checkpoint stays in memory).</summary>
    public const int MaxModels = 64;

    private readonly ConcurrentDictionary<string, IChatModel> _models = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly Lock _gate = new();

    public ServedModels(IChatModel first)
    {
        ArgumentNullException.ThrowIfNull(first);
        Add(first);
    }

    public IChatModel First => _models[_order[0]];

    /// <summary>The ids, in the order the models were added.</summary>
    public IReadOnlyList<string> Ids { get { lock (_gate) return [.. _order]; } }

    public IChatModel? Find(string id) => _models.TryGetValue(id, out var m) ? m : null;

    /// <summary>Adds a model; false when its id is taken or the server is full.</summary>
    public bool Add(IChatModel model)
    {
        lock (_gate)
        {
            if (_order.Count >= MaxModels || !_models.TryAdd(model.Id, model)) return false;
            _order.Add(model.Id);
            return true;
        }
    }
}

/// <summary>
/// <c>POST /v1/load_lora_adapter</c> as vLLM defines it (<c>{"lora_name": NAME, "lora_path": PATH}</c>; 200 with a plain-text
/// confirmation): the server loads the weights at PATH, a path on its own machine, and answers requests for model NAME from
/// then on. Served only when the operator allows it (<c>failuresynth serve student --allow-loading</c>), behind the same key
/// and rate limit as the other /v1 routes.
/// </summary>
public static class ModelLoading
{
    public const int MaxNameLength = 200;

    public static IEndpointRouteBuilder MapModelLoading(this IEndpointRouteBuilder app, ServedModels models, Func<string, string, CancellationToken, Task<IChatModel>> load, ApiKey? key = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(load);
        var route = app.MapPost("/v1/load_lora_adapter", async (HttpContext http) =>
        {
            try
            {
                if (http.Request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
                    throw new OpenAIRequestException(415, "The request must be JSON (Content-Type: application/json).", code: "unsupported_media_type");
                if (http.Request.ContentLength is > 65536) throw new OpenAIRequestException(413, "A load request is at most 64 KiB.", code: "request_too_large");
                using var buffer = new MemoryStream();
                await http.Request.Body.CopyToAsync(buffer, http.RequestAborted).ConfigureAwait(false);
                if (buffer.Length > 65536) throw new OpenAIRequestException(413, "A load request is at most 64 KiB.", code: "request_too_large");
                var (name, path) = Read(buffer.ToArray());
                if (models.Find(name) is not null)
                    throw ChatRequest.Invalid($"The model '{name}' has already been loaded.", "lora_name");
                IChatModel model;
                try
                {
                    model = await load(name, path, http.RequestAborted).ConfigureAwait(false);
                }
                catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
                {
                    throw new OpenAIRequestException(404, $"No weights at '{ChatRequest.Clip(path)}': {e.Message}", param: "lora_path", code: "not_found");
                }
                catch (Exception e) when (e is InvalidDataException or ArgumentException or FormatException or IOException or UnauthorizedAccessException)
                {
                    throw ChatRequest.Invalid($"The weights at '{ChatRequest.Clip(path)}' cannot be loaded: {e.Message}", "lora_path");
                }
                if (!models.Add(model))
                    throw ChatRequest.Invalid($"The model '{name}' was not added: the name is taken or the server holds {ServedModels.MaxModels} models already.", "lora_name");
                return Results.Text($"Success: LoRA adapter '{name}' added successfully.", "text/plain");
            }
            catch (OpenAIRequestException e)
            {
                return OpenAIEndpoints.Error(e);
            }
        });
        route.RequireRateLimiting(ServedModelSecurity.RatePolicy);
        if (key is not null) route.AddEndpointFilter((context, next) => ServedModelSecurity.RequireKey(key, context, next));
        return app;
    }

    private static (string Name, string Path) Read(byte[] body)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 4 }); }
        catch (JsonException e) { throw new OpenAIRequestException(400, $"The request body is not valid JSON: {e.Message}", code: "invalid_json"); }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw ChatRequest.Invalid("The request body must be a JSON object.", null);
            string? Str(string field) => root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            string name = Str("lora_name") is { Length: > 0 } n ? n : throw ChatRequest.Invalid("lora_name must be a non-empty string.", "lora_name");
            if (name.Length > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':'))
                throw ChatRequest.Invalid($"lora_name must be 1..{MaxNameLength} letters, digits, '-', '_', '.', '/' or ':'.", "lora_name");
            string path = Str("lora_path") is { Length: > 0 } p ? p : throw ChatRequest.Invalid("lora_path must be a non-empty string.", "lora_path");
            if (path.Any(char.IsControl) || !System.IO.Path.IsPathFullyQualified(path))
                throw ChatRequest.Invalid("lora_path must be an absolute path on the server's machine.", "lora_path");
            return (name, path);
        }
    }
}
