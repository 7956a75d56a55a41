using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Contracts;

namespace FailureSynth.Backends;

/// <summary>
/// A served student that loads new weights at run time (<c>student.reload: load-lora-adapter</c>): vLLM's route
/// <c>POST /v1/load_lora_adapter</c> with <c>{"lora_name", "lora_path"}</c> (vLLM needs VLLM_ALLOW_RUNTIME_LORA_UPDATING=True),
/// which <c>failuresynth serve student --allow-loading</c> answers too. A loaded adapter is then asked for by its name as the
/// request's <c>model</c>, and listed by <c>GET /v1/models</c>.
/// </summary>
public sealed class ServedStudentEndpoint(ModelEndpoint endpoint, HttpMessageHandler? transport = null) : IServedStudent, IDisposable
{
    private readonly HttpClient _http = EndpointHandler.Client(endpoint, transport);
    private readonly string _base = endpoint.Endpoint.ToString().TrimEnd('/');
    private readonly string? _key = endpoint.ApiKey();
    private readonly ConcurrentDictionary<string, OpenAIStudent> _students = new(StringComparer.Ordinal);

    public string InitialModel => endpoint.Model;

    public IStudent For(string model) => _students.GetOrAdd(model, m => new OpenAIStudent(endpoint with { Model = m }, transport: transport));

    public async Task<bool> ServesAsync(string model, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, "/models", null);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new StudentEndpointException($"The student endpoint {_base}/models answered HTTP {(int)response.StatusCode}: {SemanticKernelTeacher.ErrorMessage(text) ?? "no error message"}");
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.GetProperty("data").EnumerateArray().Any(m => m.GetProperty("id").GetString() == model);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new StudentEndpointException($"The student endpoint {_base}/models sent a reply that is not a model list: {TeacherReplies.Clip(e.Message, 160)}", e);
        }
    }

    public async Task LoadAsync(string model, string path, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["lora_name"] = model, ["lora_path"] = path };
        using var request = Request(HttpMethod.Post, "/load_lora_adapter", body);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new StudentEndpointException($"The student endpoint {_base}/load_lora_adapter did not load '{model}' from {path}: HTTP {(int)response.StatusCode}: " +
                $"{SemanticKernelTeacher.ErrorMessage(text) ?? TeacherReplies.Clip(text, 200)} (vLLM needs VLLM_ALLOW_RUNTIME_LORA_UPDATING=True; failuresynth serve student needs --allow-loading)");
    }

    private HttpRequestMessage Request(HttpMethod method, string route, JsonObject? body)
    {
        var request = new HttpRequestMessage(method, new Uri(_base + route));
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        if (_key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        return request;
    }

    public void Dispose()
    {
        foreach (var s in _students.Values) s.Dispose();
        _http.Dispose();
    }
}
