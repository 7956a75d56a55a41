using System.Net;
using FailureSynth.Fuzzing;

namespace FailureSynth.Trainer.Tests;

/// <summary>Mutated campaign bodies through real Kestrel: every one is answered with a problem, never a server error.</summary>
public sealed class ApiBodyFuzzTests
{
    [Fact]
    public async Task Mutated_campaign_bodies_are_refused_as_problems_never_server_errors()
    {
        // No campaign may start here: valid bodies meet the active-campaign limit of 0 after every other check.
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?> { ["FailureSynth:Api:ActiveCampaigns"] = "0" });
        string work = Path.Combine(host.Root, "fuzz-work");
        var mutator = new Mutator(new FuzzTargets(work).Get("api-body"), new Random(20261207));
        var seen = new Dictionary<HttpStatusCode, int>();
        for (int i = 0; i < 300; i++)
        {
            byte[] body = mutator.Next();
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new("application/yaml");
            using var response = await host.Http.SendAsync(host.Request(HttpMethod.Post, "/campaigns", content: content));
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.TooManyRequests,
                $"input {i} ({body.Length} bytes) got {(int)response.StatusCode}: {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            seen[response.StatusCode] = seen.GetValueOrDefault(response.StatusCode) + 1;
        }
        Assert.True(seen.GetValueOrDefault(HttpStatusCode.BadRequest) > 0, "no body was refused as invalid");
        Assert.Empty(host.CampaignFolders());
    }
}
