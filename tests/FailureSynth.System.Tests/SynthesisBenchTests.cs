using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace FailureSynth.SystemTests;

/// <summary>
/// The synthesis bench in the AppHost's system: the work streams in windows, and the dataset the services write
/// from their checks is byte for byte the one the in-process pipeline writes.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class SynthesisBenchTests(SystemFixture fixture) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = fixture.Trainer, Timeout = TimeSpan.FromMinutes(5) };

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> Post(string query)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/bench/synthesis?" + query);
        request.Headers.Add("X-Api-Key", SystemFixture.ApiKey);
        return await _http.SendAsync(request);
    }

    [Fact]
    public async Task Windows_through_the_services_write_the_same_dataset_as_in_process()
    {
        // 40 proposals per skill in windows of 15: three rounds of 16 requests (15, 15, 10), more than are out at a time.
        var results = new Dictionary<string, JsonElement>();
        foreach (string mode in new[] { "services", "in-process" })
        {
            using var response = await Post($"mode={mode}&proposals=640&window=15&batch=4&write=true");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            results[mode] = await response.Content.ReadFromJsonAsync<JsonElement>();
        }
        foreach (var (mode, r) in results)
        {
            Assert.Equal(640, r.GetProperty("checked").GetInt32());
            Assert.Equal(48, r.GetProperty("windows").GetInt32());
            Assert.InRange(r.GetProperty("passed").GetInt32(), 1, 640);
            string folder = Path.Combine(fixture.Root, "apphost", "files", r.GetProperty("dataset").GetString()!);
            Assert.True(File.Exists(Path.Combine(folder, "manifest.json")), $"{mode}: no manifest.json in {folder}");
            Assert.Equal(r.GetProperty("passed").GetInt32(), Directory.GetFiles(Path.Combine(folder, "images")).Length);
        }
        Assert.Equal(results["in-process"].GetProperty("passed").GetInt32(), results["services"].GetProperty("passed").GetInt32());
        Assert.Equal(results["in-process"].GetProperty("datasetSha256").GetString(), results["services"].GetProperty("datasetSha256").GetString());
    }

    [Fact]
    public async Task A_second_bench_while_one_runs_is_refused_and_the_first_completes()
    {
        // Sent together: one takes the Trainer (20,000 proposals take seconds), the other is refused whichever came first.
        var responses = await Task.WhenAll(Post("mode=in-process&proposals=20000"), Post("mode=in-process&proposals=20000"));
        try
        {
            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
            var refused = responses.Single(r => r.StatusCode == HttpStatusCode.Conflict);
            Assert.Contains("already running", await refused.Content.ReadAsStringAsync());
        }
        finally
        {
            foreach (var r in responses) r.Dispose();
        }
    }

    [Fact]
    public async Task A_window_out_of_range_is_refused()
    {
        using var response = await Post("mode=services&proposals=640&window=0");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("window must be from 1", await response.Content.ReadAsStringAsync());
    }
}
