using System.Text.Json;
using FailureSynth.Trainer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FailureSynth.Trainer.Tests;

/// <summary>The campaign API's OpenAPI document, served by the real Trainer application (its endpoints and metadata).</summary>
public sealed class OpenApiDocumentTests : IDisposable
{
    private readonly string _dataRoot = Path.Combine(Path.GetTempPath(), "fs-trainer-openapi-" + Guid.NewGuid().ToString("N"));

    // The document is built from the endpoints alone: the bus consumer, which would connect to RabbitMQ at start,
    // is left out, and the connection strings point at closed loopback ports that nothing dials.
    private WebApplicationFactory<CampaignManager> Trainer() => new WebApplicationFactory<CampaignManager>().WithWebHostBuilder(web =>
    {
        web.UseSetting("ConnectionStrings:messaging", "amqp://guest:guest@127.0.0.1:9/");
        web.UseSetting("ConnectionStrings:cache", "127.0.0.1:9");
        web.UseSetting("FailureSynth:DataRoot", _dataRoot);
        web.UseSetting("FailureSynth:ApiKey", "openapi-test-key");
        web.ConfigureTestServices(services =>
        {
            foreach (var consumer in services.Where(d => d.ServiceType == typeof(IHostedService)
                && d.ImplementationType?.Namespace == "FailureSynth.Messaging").ToList())
                services.Remove(consumer);
        });
    });

    [Fact]
    public async Task The_openapi_document_lists_every_campaign_endpoint_with_its_summary_and_needs_no_key()
    {
        await using var trainer = Trainer();
        using var client = trainer.CreateClient();

        using var response = await client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"GET /openapi/v1.json: {(int)response.StatusCode}");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths");

        var expected = new (string Path, string Method, string OperationId)[]
        {
            ("/campaigns", "post", "StartCampaign"),
            ("/campaigns", "get", "ListCampaigns"),
            ("/campaigns/{id}", "get", "GetCampaign"),
            ("/campaigns/{id}/cancel", "post", "CancelCampaign"),
            ("/campaigns/{id}/report", "get", "GetCampaignReport"),
            ("/campaigns/{id}/dataset", "get", "GetCampaignDataset"),
            ("/campaigns/{id}/archive", "get", "GetCampaignArchive"),
            ("/campaigns/{id}/page", "get", "GetCampaignPage"),
            ("/bench/synthesis", "post", "BenchSynthesis"),
        };
        foreach (var (path, method, operationId) in expected)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing from the document");
            Assert.True(item.TryGetProperty(method, out var operation), $"{method.ToUpperInvariant()} {path} is missing from the document");
            Assert.Equal(operationId, operation.GetProperty("operationId").GetString());
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{operationId} has no summary");
        }
        Assert.Equal(expected.Select(e => e.Path).Distinct().Order(StringComparer.Ordinal), paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

        // Starting a campaign takes YAML and answers with the campaign's status.
        var start = paths.GetProperty("/campaigns").GetProperty("post");
        Assert.True(start.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/yaml", out _));
        Assert.True(start.GetProperty("responses").GetProperty("201").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(document.RootElement.GetProperty("components").GetProperty("schemas").TryGetProperty("CampaignStatus", out _));

        // The campaigns themselves still need the key.
        using var unkeyed = await client.GetAsync(new Uri("/campaigns", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, unkeyed.StatusCode);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dataRoot, recursive: true); } catch (DirectoryNotFoundException) { }
    }
}
