using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FailureSynth.Imaging;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Contracts;
using FailureSynth.Serving;

namespace FailureSynth.Backends;

/// <summary>
/// Image synthesis over an OpenAI-compatible <c>/v1/images/generations</c> endpoint (<c>images.backend: openai</c>), for
/// proposals that carry a free-form image description instead of a scene spec. Replies must be <c>b64_json</c> PNGs of the
/// size asked for, decoded by our PNG decoder within the serving limits (4 MiB, 1024 pixels a side); no URL in a reply is
/// ever fetched. A reply that is not such a picture throws <see cref="InvalidDataException"/> (the sample is rejected); a
/// refusal by the endpoint (after the transport's retries) throws <see cref="IOException"/>, which stops the run.
/// </summary>
public sealed class OpenAIImageSynth(ModelEndpoint endpoint, HttpMessageHandler? transport = null) : IImageSynth, IDisposable
{
    private readonly HttpClient _http = EndpointHandler.Client(endpoint, transport);
    private readonly Uri _generations = new(endpoint.Endpoint.ToString().TrimEnd('/') + "/images/generations");
    private readonly string? _key = endpoint.ApiKey();

    public string Name => endpoint.Model;

    public async Task<RgbImage> GenerateAsync(string description, int size, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        if (description.Length > TeacherReplies.MaxDescriptionChars) throw new ArgumentException($"The image description has {description.Length} characters (at most {TeacherReplies.MaxDescriptionChars}).", nameof(description));
        var body = new JsonObject { ["model"] = endpoint.Model, ["prompt"] = description, ["n"] = 1, ["size"] = $"{size}x{size}", ["response_format"] = "b64_json" };
        using var request = new HttpRequestMessage(HttpMethod.Post, _generations) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        if (_key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new IOException($"The image endpoint {_generations} answered HTTP {(int)response.StatusCode}: {SemanticKernelTeacher.ErrorMessage(text) ?? "no error message"}");
        ImagesResponse? reply;
        try { reply = JsonSerializer.Deserialize<ImagesResponse>(text, OpenAIWire.Options); }
        catch (JsonException e) { throw new InvalidDataException($"The image endpoint {_generations} sent a reply that is not JSON: {TeacherReplies.Clip(e.Message, 120)}", e); }
        if (reply?.Data is not { Count: > 0 } data || data[0].B64Json is not { Length: > 0 } b64)
            throw new InvalidDataException($"The image endpoint {_generations} sent no b64_json image (URLs are not fetched).");
        RgbImage image;
        try { image = ChatRequest.DecodeDataUri("data:image/png;base64," + b64, "data[0].b64_json", new ServeLimits()); }
        catch (OpenAIRequestException e) { throw new InvalidDataException($"The image endpoint {_generations} sent an image FailureSynth refuses: {e.Message}", e); }
        if (image.Width != size || image.Height != size)
            throw new InvalidDataException($"The image endpoint {_generations} sent a {image.Width}x{image.Height} image where {size}x{size} was asked for.");
        return image;
    }

    public void Dispose() => _http.Dispose();
}
