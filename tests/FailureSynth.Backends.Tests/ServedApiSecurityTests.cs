using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using FailureSynth.ApiSecurity;
using FailureSynth.Fuzzing;
using FailureSynth.Imaging;
using FailureSynth.Serving;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Vocabulary;
using Microsoft.AspNetCore.Builder;

namespace FailureSynth.Backends.Tests;

/// <summary>
/// One test per defence of the OpenAI-compatible endpoints (<c>failuresynth serve</c>, the Student service) against the
/// OWASP API Security Top 10 (2023; docs/security.md), each sending the request that proves the refusal, on real
/// Kestrel at 127.0.0.1 as <see cref="OpenAIEndpoints.StartAsync"/> wires it.
/// </summary>
public sealed class ServedApiSecurityTests : IAsyncLifetime
{
    private const string Key = "served-key-0123456789abcdef";
    private const string ModelId = "tinyvlm-sec";
    private TinyVlmStudent? _student;

    public Task InitializeAsync()
    {
        _student = TinyVlmStudent.Create(ComputeContext.Create(1, preferNativeBlas: false), TokenVocabulary.Build(["What colour is the circle ?"]), 1);
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private sealed class Server(WebApplication app) : IAsyncDisposable
    {
        public HttpClient Http { get; } = new() { BaseAddress = OpenAIEndpoints.BaseAddress(app) };
        public Uri Address => Http.BaseAddress!;

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await app.DisposeAsync();
        }
    }

    // The failing model's error is logged by design; Critical keeps a passing run's console free of it.
    private async Task<Server> StartAsync(ServeLimits? limits = null, IChatModel? model = null) =>
        new(await OpenAIEndpoints.StartAsync(model ?? new StudentChatModel(_student!, ModelId), 0, limits, model is FailingModel ? Microsoft.Extensions.Logging.LogLevel.Critical : Microsoft.Extensions.Logging.LogLevel.Warning, key: new ApiKey(Key)));

    private string Png() => DataUri(PngEncoder.Encode(new RgbImage(_student!.Model.Config.ImageSize, _student.Model.Config.ImageSize)));

    private static string DataUri(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);

    private JsonObject Body(string? image = null, string model = ModelId, Action<JsonObject>? edit = null)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject
            {
                ["role"] = "user",
                ["content"] = new JsonArray(
                    new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = image ?? Png() } },
                    new JsonObject { ["type"] = "text", ["text"] = "What colour is the circle?" }),
            }),
        };
        edit?.Invoke(body);
        return body;
    }

    private static HttpRequestMessage Post(string body, string? key = Key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.Authorization = new("Bearer", key);
        return request;
    }

    private static HttpRequestMessage Get(string path, string? key = Key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null) request.Headers.Authorization = new("Bearer", key);
        return request;
    }

    /// <summary>Status, OpenAI error (null on success) and the response.</summary>
    private static async Task<(HttpStatusCode Status, JsonObject? Error, HttpResponseMessage Response)> Send(Server server, HttpRequestMessage request)
    {
        var response = await server.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        var error = response.IsSuccessStatusCode ? null : JsonNode.Parse(text)!["error"]!.AsObject();
        if (error is not null) Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
        return (response.StatusCode, error, response);
    }

    private static string Message(JsonObject? error) => error!["message"]!.GetValue<string>();

    private static string? Code(JsonObject? error) => error!["code"]?.GetValue<string>();

    [Fact]
    public async Task Request_body_over_the_limit_is_refused_with_413_with_and_without_content_length()
    {
        await using var server = await StartAsync(new ServeLimits(MaxRequestBytes: 20_000));
        string big = Body(edit: b => b["user"] = new string('x', 30_000)).ToJsonString();
        var (status, error, _) = await Send(server, Post(big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("request_too_large", Code(error));

        // Chunked, no Content-Length: cut while it is read. Past Kestrel's cap (twice the limit) too: still OpenAI's shape.
        foreach (int size in new[] { 30_000, 200_000 })
        {
            var chunked = Post("");
            chunked.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(Body(edit: b => b["user"] = new string('x', size)).ToJsonString())));
            chunked.Content.Headers.ContentType = new("application/json");
            chunked.Headers.TransferEncodingChunked = true;
            (status, error, _) = await Send(server, chunked);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
            Assert.Equal("request_too_large", Code(error));
        }
    }

    [Fact]
    public async Task Requests_over_the_per_client_rate_are_refused_with_429_and_retry_after()
    {
        await using var server = await StartAsync(new ServeLimits(PermitsPerMinute: 3));
        for (int i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await Send(server, Get("/v1/models"))).Status);
        // A wrong key counts too: guessing keys is rate limited like everything else.
        var (status, error, response) = await Send(server, Get("/v1/models", key: "guess-000000000000000000"));
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("rate_limit_exceeded", Code(error));
        Assert.Contains("More than 3 requests a minute", Message(error), StringComparison.Ordinal);
        Assert.True(response.Headers.RetryAfter is not null, "429 without Retry-After");
    }

    [Fact]
    public async Task Requests_over_the_concurrency_limit_are_refused_while_an_upload_is_in_flight()
    {
        await using var server = await StartAsync(new ServeLimits(ConcurrentRequests: 1));
        using var slow = new TcpClient();
        await slow.ConnectAsync(server.Address.Host, server.Address.Port);
        // Headers and the start of the body: the request holds the only permit while the server waits for the rest.
        string head = $"POST /v1/chat/completions HTTP/1.1\r\nHost: {server.Address.Authority}\r\nAuthorization: Bearer {Key}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"model\":";
        await slow.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head));
        HttpStatusCode status = HttpStatusCode.OK;
        JsonObject? error = null;
        for (int attempt = 0; attempt < 100 && status != HttpStatusCode.TooManyRequests; attempt++)
        {
            (status, error, _) = await Send(server, Get("/v1/models"));
            if (status != HttpStatusCode.TooManyRequests) await Task.Delay(50);
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Contains("already answering 1 requests", Message(error), StringComparison.Ordinal);
        slow.Close();
        for (int attempt = 0; attempt < 100 && status != HttpStatusCode.OK; attempt++)
        {
            await Task.Delay(50);
            (status, _, _) = await Send(server, Get("/v1/models"));
        }
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Without_the_key_every_endpoint_answers_one_identical_401()
    {
        await using var server = await StartAsync();
        var (status, error, _) = await Send(server, Post(Body().ToJsonString(), key: null));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("missing_api_key", Code(error));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(server, Get("/v1/models", key: null))).Status);
        // Wrong keys of any length, and a key sent another way, get one answer (hashes compared in fixed time).
        var answers = new HashSet<string>();
        foreach (string wrong in new[] { "x", Key[..^1], Key + "x", Key.ToUpperInvariant(), new string('k', 4000) })
        {
            (status, error, _) = await Send(server, Post(Body().ToJsonString(), key: wrong));
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            answers.Add(error!.ToJsonString());
        }
        var basic = Get("/v1/models", key: null);
        basic.Headers.Authorization = new("Basic", Key);
        (status, error, _) = await Send(server, basic);
        answers.Add(error!.ToJsonString());
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Single(answers);
        Assert.Equal(HttpStatusCode.OK, (await Send(server, Post(Body().ToJsonString()))).Status);
    }

    [Fact]
    public void Keys_shorter_than_16_characters_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new ApiKey("short-key"));
        Assert.Contains("at least 16", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/models", true)]
    [InlineData("/v1/models", false)]
    [InlineData("/v1/no-such-route", true)]
    public async Task Answers_carry_security_headers_and_no_server_header(string path, bool withKey)
    {
        await using var server = await StartAsync();
        var (_, _, response) = await Send(server, Get(path, withKey ? Key : null));
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", string.Join(",", response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", string.Join(",", response.Headers.GetValues("Referrer-Policy")));
        Assert.Contains("frame-ancestors 'none'", string.Join(",", response.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.True(response.Headers.CacheControl?.NoStore, "answer without Cache-Control: no-store");
        Assert.False(response.Headers.Contains("Server"), "the Server header names the web server");
    }

    /// <summary>A served model that fails with a message naming a server path: the 500 must not carry it.</summary>
    private sealed class FailingModel : IChatModel
    {
        public string Id => ModelId;
        public Task<ChatAnswer> CompleteAsync(ChatRequest request, CancellationToken cancellationToken) =>
            throw new IOException("Could not read /srv/failuresynth/secret/weights.safetensors");
    }

    [Fact]
    public async Task Errors_are_in_OpenAIs_shape_without_stack_trace_or_path()
    {
        await using var server = await StartAsync(model: new FailingModel());
        var response = await server.Http.SendAsync(Post(Body().ToJsonString()));
        string text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("server_error", JsonNode.Parse(text)!["error"]!["type"]!.GetValue<string>());
        Assert.DoesNotContain("/srv/", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Png_declaring_65535_by_65535_pixels_is_refused_before_decoding()
    {
        await using var server = await StartAsync();
        byte[] png = FuzzTargets.BuildPng(65535, 65535, 2, 8, FuzzTargets.Zlib(new byte[1024]));
        var (status, error, _) = await Send(server, Post(Body(DataUri(png)).ToJsonString()));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("image_too_large", Code(error));
        Assert.Contains("65535x65535", Message(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Png_decompression_bomb_is_refused_after_the_rows_it_declares()
    {
        await using var server = await StartAsync();
        // 64 x 64 declared (the model's size), 64 MiB of zeros behind it in about 64 KiB of IDAT.
        byte[] png = FuzzTargets.BuildPng(64, 64, 2, 8, FuzzTargets.Zlib(new byte[64 << 20]));
        var (status, error, _) = await Send(server, Post(Body(DataUri(png)).ToJsonString()));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_image", Code(error));
        Assert.Contains("decompresses to more than", Message(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task More_images_than_the_limit_are_refused_before_they_are_decoded()
    {
        await using var server = await StartAsync();
        var body = Body();
        var content = body["messages"]![0]!["content"]!.AsArray();
        for (int i = 0; i < 4; i++) content.Insert(0, new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = Png() } });
        var (status, error, _) = await Send(server, Post(body.ToJsonString()));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("too_many_images", Code(error));
    }

    [Fact]
    public async Task Unknown_model_is_refused_with_404()
    {
        await using var server = await StartAsync();
        var (status, error, _) = await Send(server, Post(Body(model: "gpt-4o").ToJsonString()));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(("model_not_found", "model"), (Code(error), error!["param"]!.GetValue<string>()));
        (status, error, _) = await Send(server, Get("/v1/models/gpt-4o"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", Code(error));
    }

    [Theory]
    [InlineData("max_tokens", "1000000", "max_tokens must be an integer in 1..4096")]
    [InlineData("max_completion_tokens", "0", "max_completion_tokens must be an integer in 1..4096")]
    [InlineData("n", "5", "n must be 1")]
    [InlineData("top_logprobs", "1000", "top_logprobs must be an integer in 0..64")]
    [InlineData("temperature", "50", "temperature must be a number in 0..2")]
    [InlineData("top_p", "-1", "top_p must be a number in 0..1")]
    [InlineData("presence_penalty", "\"high\"", "presence_penalty must be a number in -2..2")]
    public async Task Numeric_fields_outside_their_range_are_refused_naming_the_field(string field, string value, string expected)
    {
        await using var server = await StartAsync();
        var body = Body(edit: b => { b["logprobs"] = true; b[field] = JsonNode.Parse(value); });
        var (status, error, _) = await Send(server, Post(body.ToJsonString()));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, error!["param"]!.GetValue<string>());
        Assert.Contains(expected, Message(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task More_messages_than_the_limit_are_refused()
    {
        await using var server = await StartAsync();
        var body = Body();
        var messages = body["messages"]!.AsArray();
        for (int i = 0; i < 64; i++) messages.Insert(0, new JsonObject { ["role"] = "assistant", ["content"] = "ok" });
        var (status, error, _) = await Send(server, Post(body.ToJsonString()));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("at most 64", Message(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutated_bodies_through_kestrel_are_refused_in_OpenAIs_shape_never_server_errors()
    {
        // The fuzz target's own inputs (seeded), sent over HTTP: only 2xx or 4xx in OpenAI's error shape.
        await using var server = await StartAsync(model: null);
        var target = new FuzzTargets(Path.GetTempPath()).Get("serve-body");
        var mutator = new Mutator(target, new Random(20261207));
        int refused = 0;
        for (int i = 0; i < 150; i++)
        {
            byte[] input = mutator.Next();
            if (input.Length == 0 || input[0] % 2 != 0) continue; // the student's bodies: the teacher is not served here
            string body = Encoding.UTF8.GetString(input, 1, input.Length - 1).Replace("tinyvlm-fuzz", ModelId, StringComparison.Ordinal);
            var response = await server.Http.SendAsync(Post(body));
            int status = (int)response.StatusCode;
            Assert.True(status is 200 or (>= 400 and < 500), $"input {i}: HTTP {status}: {await response.Content.ReadAsStringAsync()}");
            if (status >= 400)
            {
                refused++;
                Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["message"]);
            }
        }
        Assert.True(refused > 0, "no mutated body was refused");
    }
}
