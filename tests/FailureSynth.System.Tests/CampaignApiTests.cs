using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace FailureSynth.SystemTests;

/// <summary>The Trainer's campaign API over HTTP, in the AppHost's system: authentication and every refusal, with its reason.</summary>
[Collection(SystemCollection.Name)]
public sealed class CampaignApiTests(SystemFixture fixture) : IDisposable
{
    private const string Key = SystemFixture.ApiKey;
    private readonly HttpClient _http = new() { BaseAddress = fixture.Trainer };

    public void Dispose() => _http.Dispose();

    private HttpRequestMessage Request(HttpMethod method, string path, string? key = Key, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        return request;
    }

    private async Task<(HttpStatusCode Status, string Detail)> Send(HttpRequestMessage request)
    {
        using var response = await _http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        string detail = body;
        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
        return (response.StatusCode, detail);
    }

    private static StringContent Yaml(string text, string type = "application/yaml") => new(text, Encoding.UTF8, type);

    [Fact]
    public async Task Requests_without_the_right_key_are_refused_and_health_is_open()
    {
        var missing = await Send(Request(HttpMethod.Get, "/campaigns", key: null));
        Assert.Equal(HttpStatusCode.Unauthorized, missing.Status);
        Assert.Contains("X-Api-Key", missing.Detail);
        var wrong = await Send(Request(HttpMethod.Post, "/campaigns", key: "nope", Yaml(fixture.Yaml)));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Contains("wrong API key", wrong.Detail);
        Assert.Equal(HttpStatusCode.OK, (await Send(new HttpRequestMessage(HttpMethod.Get, "/health"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(Request(HttpMethod.Get, "/campaigns"))).Status);
    }

    [Fact]
    public async Task Bad_campaigns_are_refused_with_the_reason_and_nothing_is_started()
    {
        var empty = await Send(Request(HttpMethod.Post, "/campaigns", content: Yaml("  \n")));
        Assert.Equal(HttpStatusCode.BadRequest, empty.Status);
        Assert.Contains("empty", empty.Detail);

        var typo = await Send(Request(HttpMethod.Post, "/campaigns", content: Yaml("name: x\nbudget:\n  sampels: 10\n")));
        Assert.Equal(HttpStatusCode.BadRequest, typo.Status);
        Assert.Contains("sampels", typo.Detail);

        var json = await Send(Request(HttpMethod.Post, "/campaigns", content: new StringContent("{}", Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.Status);

        var huge = await Send(Request(HttpMethod.Post, "/campaigns", content: Yaml("name: x\n# " + new string('a', 70_000))));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.Status);

        using var list = await _http.SendAsync(Request(HttpMethod.Get, "/campaigns"));
        Assert.Equal(0, (await list.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength());
    }

    [Fact]
    public async Task Unknown_or_malformed_ids_and_unfinished_downloads_are_refused()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Send(Request(HttpMethod.Get, "/campaigns/no-such-campaign"))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(Request(HttpMethod.Get, "/campaigns/Bad_Id!"))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(Request(HttpMethod.Post, "/campaigns/no-such-campaign/cancel"))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(Request(HttpMethod.Post, "/bench/synthesis?mode=gpu"))).Status);

        // A campaign just started: its downloads are refused until it completes, and cancel works once.
        using var created = await _http.SendAsync(Request(HttpMethod.Post, "/campaigns", content: Yaml(fixture.Yaml.Replace("name: small", "name: Cancel_Me"))));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.StartsWith("cancel-me-", id);
        var report = await Send(Request(HttpMethod.Get, $"/campaigns/{id}/report"));
        Assert.Equal(HttpStatusCode.Conflict, report.Status);
        Assert.Contains("not completed", report.Detail);
        Assert.Equal(HttpStatusCode.Accepted, (await Send(Request(HttpMethod.Post, $"/campaigns/{id}/cancel"))).Status);
        for (int i = 0; i < 100; i++)
        {
            using var status = await _http.SendAsync(Request(HttpMethod.Get, $"/campaigns/{id}"));
            if ((await status.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString() == "Cancelled") break;
            await Task.Delay(100);
        }
        var again = await Send(Request(HttpMethod.Post, $"/campaigns/{id}/cancel"));
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Contains("Cancelled", again.Detail);
    }
}
