using System.Net;
using System.Net.Http.Json;
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

/// <summary>The served student's protocol: OpenAI's request and reply shapes, and every refusal in OpenAI's error shape.</summary>
public sealed class ServingTests : IAsyncLifetime
{
    private WebApplication? _server;
    private readonly HttpClient _http = new();
    private TinyVlmStudent? _student;

    public async Task InitializeAsync()
    {
        // Untrained weights answer too: the protocol, not the accuracy, is under test.
        _student = TinyVlmStudent.Create(ComputeContext.Create(1, preferNativeBlas: false), TokenVocabulary.Build(["What colour is the circle ?"]), 1);
        _server = await OpenAIEndpoints.StartAsync(new StudentChatModel(_student, "tinyvlm-test"), 0);
        _http.BaseAddress = OpenAIEndpoints.BaseAddress(_server);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }

    private string Png(int size) => "data:image/png;base64," + Convert.ToBase64String(PngEncoder.Encode(new RgbImage(size, size)));

    private static JsonObject Request(string model, JsonNode content, int top = 3) => new()
    {
        ["model"] = model,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
        ["logprobs"] = true,
        ["top_logprobs"] = top,
    };

    private JsonArray Parts(string url, string text = "What colour is the circle?") => new(
        new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } },
        new JsonObject { ["type"] = "text", ["text"] = text });

    private async Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(string body, string contentType = "application/json")
    {
        using var response = await _http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, contentType));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task Models_are_listed_and_a_question_gets_one_answer_token_with_its_top_alternatives()
    {
        var models = JsonNode.Parse(await _http.GetStringAsync("/v1/models"))!;
        Assert.Equal("list", models["object"]!.GetValue<string>());
        Assert.Equal("tinyvlm-test", models["data"]![0]!["id"]!.GetValue<string>());

        var (status, body) = await PostAsync(Request("tinyvlm-test", Parts(Png(_student!.Model.Config.ImageSize))).ToJsonString());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("chat.completion", body["object"]!.GetValue<string>());
        var choice = body["choices"]![0]!;
        string answer = choice["message"]!["content"]!.GetValue<string>();
        var token = choice["logprobs"]!["content"]![0]!;
        Assert.Equal(answer, token["token"]!.GetValue<string>());
        var top = token["top_logprobs"]!.AsArray();
        Assert.Equal(3, top.Count);
        Assert.Equal(answer, top[0]!["token"]!.GetValue<string>());
        Assert.True(top[0]!["logprob"]!.GetValue<double>() >= top[1]!["logprob"]!.GetValue<double>());
        Assert.Contains(answer, _student.Answers.Answers);
        Assert.True(body["usage"]!["total_tokens"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task Bad_requests_are_refused_in_OpenAIs_error_shape_naming_the_field()
    {
        int size = _student!.Model.Config.ImageSize;
        var cases = new (string Name, string Body, string ContentType, HttpStatusCode Status, string Code, string Message)[]
        {
            ("unknown model", Request("gpt-4o", Parts(Png(size))).ToJsonString(), "application/json", HttpStatusCode.NotFound, "model_not_found", "does not exist"),
            ("no image", Request("tinyvlm-test", "What colour is the circle?").ToJsonString(), "application/json", HttpStatusCode.BadRequest, "", "exactly one image"),
            ("image URL to fetch", Request("tinyvlm-test", Parts("https://example.invalid/a.png")).ToJsonString(), "application/json", HttpStatusCode.BadRequest, "invalid_image_url", "fetches no URLs"),
            ("bad base64", Request("tinyvlm-test", Parts("data:image/png;base64,@@@@")).ToJsonString(), "application/json", HttpStatusCode.BadRequest, "invalid_image", "not valid base64"),
            ("not a PNG", Request("tinyvlm-test", Parts("data:image/png;base64," + Convert.ToBase64String(Encoding.ASCII.GetBytes("GIF89a not a png")))).ToJsonString(), "application/json", HttpStatusCode.BadRequest, "invalid_image", "does not decode as PNG"),
            ("wrong image size", Request("tinyvlm-test", Parts(Png(size + 1))).ToJsonString(), "application/json", HttpStatusCode.BadRequest, "invalid_image", $"this model reads {size}x{size}"),
            ("huge declared image", Request("tinyvlm-test", Parts("data:image/png;base64," + Convert.ToBase64String(HugeHeader()))).ToJsonString(), "application/json", HttpStatusCode.RequestEntityTooLarge, "image_too_large", "at most 1024 pixels"),
            ("streaming", new JsonObject { ["model"] = "tinyvlm-test", ["stream"] = true, ["messages"] = new JsonArray() }.ToJsonString(), "application/json", HttpStatusCode.BadRequest, "", "stream: true is not supported"),
            ("top_logprobs too many", Request("tinyvlm-test", Parts(Png(size)), top: 500).ToJsonString(), "application/json", HttpStatusCode.BadRequest, "", "top_logprobs must be an integer"),
            ("not JSON", "{\"model\": ", "application/json", HttpStatusCode.BadRequest, "invalid_json", "not valid JSON"),
            ("not JSON content type", "model=x", "application/x-www-form-urlencoded", HttpStatusCode.UnsupportedMediaType, "unsupported_media_type", "must be JSON"),
            ("body over the limit", Request("tinyvlm-test", Parts(Png(size), new string('x', 9 << 20))).ToJsonString(), "application/json", HttpStatusCode.RequestEntityTooLarge, "request_too_large", "at most"),
        };
        foreach (var c in cases)
        {
            var (status, body) = await PostAsync(c.Body, c.ContentType);
            Assert.True(c.Status == status, $"{c.Name}: HTTP {(int)status}, expected {(int)c.Status}: {body}");
            var error = body["error"]!.AsObject();
            Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
            Assert.Contains(c.Message, error["message"]!.GetValue<string>(), StringComparison.Ordinal);
            if (c.Code.Length > 0) Assert.Equal(c.Code, error["code"]!.GetValue<string>());
        }
        using var missing = await _http.GetAsync("/v1/embeddings");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("No route", (await missing.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    // A valid PNG signature and IHDR declaring 20000 x 20000 pixels: refused before any decoding.
    private static byte[] HugeHeader()
    {
        byte[] png = PngEncoder.Encode(new RgbImage(1, 1));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16, 4), 20000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20, 4), 20000);
        return png;
    }
}

/// <summary>The per-role backend keys of a campaign file: what is refused, and that embedded configs keep their JSON.</summary>
public sealed class BackendConfigTests
{
    private static string Base(string teacher = "", string student = "", int iterations = 1) => $$"""
        iterations: {{iterations}}
        student: { checkpoint: x.safetensors{{student}} }
        teacher: { seed: 17{{teacher}} }
        """;

    [Theory]
    [InlineData(", backend: gpt", "teacher.backend 'gpt' must be one of embedded, semantic-kernel")]
    [InlineData(", backend: semantic-kernel", "teacher.endpoint is missing")]
    [InlineData(", backend: semantic-kernel, endpoint: 'ftp://host/v1', model: m", "teacher.endpoint 'ftp://host/v1' must be an http or https URL")]
    [InlineData(", backend: semantic-kernel, endpoint: 'http://user:pw@host/v1', model: m", "without a query or credentials")]
    [InlineData(", backend: semantic-kernel, endpoint: 'http://127.0.0.1:8000/v1'", "teacher.model is missing")]
    [InlineData(", backend: semantic-kernel, endpoint: 'http://127.0.0.1:8000/v1', model: m, api_key_env: 'sk-proj-abc123'", "teacher.api_key_env must be the NAME of an environment variable")]
    [InlineData(", backend: semantic-kernel, endpoint: 'http://127.0.0.1:8000/v1', model: m, timeout_s: 0", "teacher.timeout_s must be in (0, 3600]")]
    [InlineData(", backend: semantic-kernel, endpoint: 'http://127.0.0.1:8000/v1', model: m, max_concurrency: 0", "teacher.max_concurrency must be 1..256")]
    [InlineData(", endpoint: 'http://127.0.0.1:8000/v1'", "teacher.endpoint is set but teacher.backend is embedded")]
    [InlineData(", api_key: 'sk-abc'", "unknown key 'teacher.api_key'")]
    public void Bad_teacher_backend_keys_are_refused_naming_the_key(string teacher, string expected)
    {
        var e = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse(Base(teacher), "c.yaml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-proj-abc123", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_served_student_is_refused_for_more_than_one_iteration()
    {
        var e = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse(Base(student: ", backend: openai, endpoint: 'http://127.0.0.1:8001/v1', model: m", iterations: 2), "c.yaml"));
        Assert.Contains("set iterations: 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_image_endpoint_needs_the_semantic_kernel_teacher_and_a_synthesising_campaign()
    {
        const string Images = "\nimages: { backend: openai, endpoint: 'http://127.0.0.1:8002/v1', model: gpt-image-1 }\n";
        var embedded = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse(Base() + Images, "c.yaml"));
        Assert.Contains("images.backend openai needs teacher.backend semantic-kernel", embedded.Message, StringComparison.Ordinal);
        const string Teacher = ", backend: semantic-kernel, endpoint: 'http://127.0.0.1:8000/v1', model: m";
        var retrieve = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse(Base(Teacher) + Images + "prescription: retrieve\n", "c.yaml"));
        Assert.Contains("prescription retrieve uses none", retrieve.Message, StringComparison.Ordinal);
        var config = CampaignConfig.Parse(Base(Teacher) + Images, "c.yaml");
        Assert.Equal(("images", "gpt-image-1"), (config.Images!.Remote()!.Role, config.Images.Remote()!.Model));
        // The runner refuses to start without the client the images section asks for, instead of dropping every described sample.
        string folder = Path.Combine(Path.GetTempPath(), "fs-images-refused-" + Guid.NewGuid().ToString("N"));
        try
        {
            var e = await Assert.ThrowsAsync<CampaignConfigException>(() => new CampaignRunner(config, folder).RunAsync(null, default));
            Assert.Contains("given no image endpoint", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Remote_roles_resolve_with_defaults_and_embedded_configs_serialise_as_before()
    {
        var remote = CampaignConfig.Parse(Base(", backend: semantic-kernel, endpoint: 'http://127.0.0.1:8000/v1', model: teacher-model, api_key_env: FS_TEACHER_KEY"), "c.yaml");
        var endpoint = remote.Teacher.Remote()!;
        Assert.Equal((new Uri("http://127.0.0.1:8000/v1"), "teacher-model", "FS_TEACHER_KEY", TimeSpan.FromSeconds(120), 4),
            (endpoint.Endpoint, endpoint.Model, endpoint.ApiKeyEnv, endpoint.Timeout, endpoint.MaxConcurrency));
        var unset = Assert.Throws<CampaignConfigException>(() => endpoint.ApiKey());
        Assert.Contains("'FS_TEACHER_KEY', which is not set", unset.Message, StringComparison.Ordinal);

        string json = System.Text.Json.JsonSerializer.Serialize(CampaignConfig.Parse(Base(), "c.yaml"), CampaignJson.Options);
        Assert.DoesNotContain("backend", json, StringComparison.Ordinal);
        Assert.DoesNotContain("images", json, StringComparison.Ordinal);
        Assert.Null(CampaignConfig.Parse(Base(), "c.yaml").Student.Remote());
    }
}
