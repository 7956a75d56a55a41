using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FailureSynth.Imaging;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Serving;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Vocabulary;
using Microsoft.AspNetCore.Builder;

namespace FailureSynth.Backends.Tests;

/// <summary>
/// <c>POST /v1/load_lora_adapter</c> on the served student, as vLLM's runtime route: a loaded checkpoint is listed and
/// answers by its name; bad requests are refused in OpenAI's error shape naming the field; and the campaign's client
/// (<see cref="ServedStudentEndpoint"/>) speaks it.
/// </summary>
public sealed class ModelLoadingTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fs-loading-" + Guid.NewGuid().ToString("N"));
    private readonly ComputeContext _context = ComputeContext.Create(1, preferNativeBlas: false);
    private WebApplication? _server;
    private readonly HttpClient _http = new();
    private TinyVlmStudent? _student;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        _student = TinyVlmStudent.Create(_context, TokenVocabulary.Build(["What colour is the circle ?"]), 1);
        _student.Save(Path.Combine(_root, "other.safetensors"));
        _server = await OpenAIEndpoints.StartAsync(new StudentChatModel(_student, "base"), 0,
            load: (name, path, _) => Task.FromResult<IChatModel>(new StudentChatModel(TinyVlmStudent.Load(path, _context), name)));
        _http.BaseAddress = OpenAIEndpoints.BaseAddress(_server);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private async Task<(HttpStatusCode Status, string Body)> LoadAsync(string body)
    {
        using var response = await _http.PostAsync("/v1/load_lora_adapter", new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_loaded_checkpoint_is_listed_and_answers_by_its_name()
    {
        string path = Path.Combine(_root, "other.safetensors");
        var (status, body) = await LoadAsync(new JsonObject { ["lora_name"] = "iter-1", ["lora_path"] = path }.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Success: LoRA adapter 'iter-1' added successfully.", body);
        var models = JsonNode.Parse(await _http.GetStringAsync("/v1/models"))!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["base", "iter-1"], models);
        string png = "data:image/png;base64," + Convert.ToBase64String(PngEncoder.Encode(new RgbImage(_student!.Model.Config.ImageSize, _student.Model.Config.ImageSize)));
        var request = new JsonObject
        {
            ["model"] = "iter-1",
            ["messages"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = png } }, new JsonObject { ["type"] = "text", ["text"] = "What colour is the circle?" }),
            }),
        };
        using var reply = await _http.PostAsync("/v1/chat/completions", new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        Assert.Equal("iter-1", JsonNode.Parse(await reply.Content.ReadAsStringAsync())!["model"]!.GetValue<string>());

        // The campaign's client: lists, loads (a second name) and asks by name.
        var endpoint = new ModelEndpoint("student", "openai", new Uri(OpenAIEndpoints.BaseAddress(_server!) + "v1"), "base", null, TimeSpan.FromSeconds(30), 2);
        using var served = new ServedStudentEndpoint(endpoint);
        Assert.True(await served.ServesAsync("iter-1", default));
        Assert.False(await served.ServesAsync("iter-2", default));
        await served.LoadAsync("iter-2", path, default);
        Assert.True(await served.ServesAsync("iter-2", default));
        var e = await Assert.ThrowsAsync<StudentEndpointException>(() => served.LoadAsync("iter-2", path, default));
        Assert.Contains("has already been loaded", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_load_requests_are_refused_naming_the_field_and_nothing_is_added()
    {
        string missing = Path.Combine(_root, "missing.safetensors");
        string notWeights = Path.Combine(_root, "notes.txt");
        await File.WriteAllTextAsync(notWeights, "not a checkpoint");
        var cases = new (string Body, HttpStatusCode Status, string Param, string Text)[]
        {
            ("{\"lora_path\": \"/x\"}", HttpStatusCode.BadRequest, "lora_name", "lora_name must be a non-empty string"),
            ("{\"lora_name\": \"a b\", \"lora_path\": \"/x\"}", HttpStatusCode.BadRequest, "lora_name", "letters, digits"),
            ("{\"lora_name\": \"base\", \"lora_path\": \"/x\"}", HttpStatusCode.BadRequest, "lora_name", "has already been loaded"),
            ("{\"lora_name\": \"x\", \"lora_path\": \"relative/dir\"}", HttpStatusCode.BadRequest, "lora_path", "absolute path"),
            ($"{{\"lora_name\": \"x\", \"lora_path\": \"{missing}\"}}", HttpStatusCode.NotFound, "lora_path", "No weights at"),
            ($"{{\"lora_name\": \"x\", \"lora_path\": \"{notWeights}\"}}", HttpStatusCode.BadRequest, "lora_path", "cannot be loaded"),
            ("[1]", HttpStatusCode.BadRequest, "", "JSON object"),
            ("{", HttpStatusCode.BadRequest, "", "not valid JSON"),
        };
        foreach (var c in cases)
        {
            var (status, body) = await LoadAsync(c.Body);
            Assert.True(c.Status == status, $"{c.Body}: {status} {body}");
            var error = JsonNode.Parse(body)!["error"]!;
            Assert.Contains(c.Text, error["message"]!.GetValue<string>(), StringComparison.Ordinal);
            if (c.Param.Length > 0) Assert.Equal(c.Param, error["param"]!.GetValue<string>());
        }
        var models = JsonNode.Parse(await _http.GetStringAsync("/v1/models"))!["data"]!.AsArray();
        Assert.Single(models);
    }

    [Fact]
    public async Task Loading_is_served_only_when_allowed_and_only_with_the_key()
    {
        string body = new JsonObject { ["lora_name"] = "x", ["lora_path"] = Path.Combine(_root, "other.safetensors") }.ToJsonString();
        await using (var plain = await OpenAIEndpoints.StartAsync(new StudentChatModel(_student!, "base"), 0))
        {
            using var http = new HttpClient { BaseAddress = OpenAIEndpoints.BaseAddress(plain) };
            using var response = await http.PostAsync("/v1/load_lora_adapter", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        var key = new FailureSynth.ApiSecurity.ApiKey("a-key-of-sixteen-plus-characters");
        await using var keyed = await OpenAIEndpoints.StartAsync(new StudentChatModel(_student!, "base"), 0, key: key,
            load: (name, path, _) => Task.FromResult<IChatModel>(new StudentChatModel(TinyVlmStudent.Load(path, _context), name)));
        using var client = new HttpClient { BaseAddress = OpenAIEndpoints.BaseAddress(keyed) };
        using (var without = await client.PostAsync("/v1/load_lora_adapter", new StringContent(body, Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/load_lora_adapter") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "a-key-of-sixteen-plus-characters");
        using var with = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
    }
}
