using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace FailureSynth.AppHost;

/// <summary>
/// The trainer's commands in the dashboard (its row's menu on the resources page): start the demo campaign, and
/// cancel the running one. Both go through the campaign API with the run's key, as any client would.
/// </summary>
public static class TrainerCommands
{
    public const string StartDemo = "start-demo-campaign";
    public const string CancelRunning = "cancel-running-campaign";

    /// <summary>Which campaign file "Start demo campaign" posts; a relative path is taken from the repository root, as the Trainer takes campaign paths.</summary>
    public const string DemoCampaignKey = "FailureSynth:DemoCampaign";

    public static IResourceBuilder<ProjectResource> WithCampaignCommands(this IResourceBuilder<ProjectResource> trainer, string apiKey)
    {
        string repository = Path.GetFullPath(Path.Combine(trainer.ApplicationBuilder.AppHostDirectory, ".."));
        string campaign = Path.GetFullPath(trainer.ApplicationBuilder.Configuration[DemoCampaignKey] is { Length: > 0 } file ? file : Path.Combine("campaigns", "demo.yaml"), repository);
        var endpoint = trainer.GetEndpoint("http");

        trainer.WithCommand(StartDemo, "Start demo campaign", async context =>
        {
            if (!File.Exists(campaign)) return CommandResults.Failure($"The demo campaign {campaign} does not exist (set {DemoCampaignKey} to another file).");
            using var http = Client(endpoint, apiKey);
            using var body = new StringContent(await File.ReadAllTextAsync(campaign, context.CancellationToken), Encoding.UTF8, "application/yaml");
            using var response = await http.PostAsync(new Uri("/campaigns", UriKind.Relative), body, context.CancellationToken);
            if (!response.IsSuccessStatusCode) return CommandResults.Failure($"The trainer refused {campaign}: {await Detail(response, context.CancellationToken)}");
            string id = (await response.Content.ReadFromJsonAsync<JsonElement>(context.CancellationToken)).GetProperty("id").GetString()!;
            return CommandResults.Success($"Campaign {id} started from {Path.GetFileName(campaign)}.");
        }, new CommandOptions
        {
            // Highlighted commands show as a button in the trainer's row, with the description as its tooltip.
            Description = $"Start demo campaign: POST {campaign} to the campaign API (it runs when no other campaign is running).",
            IconName = "Play",
            IsHighlighted = true,
            UpdateState = WhenRunning,
        });

        trainer.WithCommand(CancelRunning, "Cancel running campaign", async context =>
        {
            using var http = Client(endpoint, apiKey);
            var campaigns = await http.GetFromJsonAsync<JsonElement>(new Uri("/campaigns", UriKind.Relative), context.CancellationToken);
            var running = campaigns.EnumerateArray().Where(c => c.GetProperty("state").GetString() is "Running").Select(c => c.GetProperty("id").GetString()!).ToList();
            if (running.Count == 0) return CommandResults.Failure("No campaign is running.");
            foreach (string id in running)
            {
                using var response = await http.PostAsync(new Uri($"/campaigns/{id}/cancel", UriKind.Relative), null, context.CancellationToken);
                if (!response.IsSuccessStatusCode) return CommandResults.Failure($"Cancelling {id} failed: {await Detail(response, context.CancellationToken)}");
            }
            return CommandResults.Success($"Cancelled {string.Join(", ", running)}; its finished stages stay on disk.");
        }, new CommandOptions
        {
            Description = "Cancel running campaign: the one the trainer is running (queued ones stay queued).",
            ConfirmationMessage = "Cancel the running campaign? Its finished stages stay on disk.",
            IconName = "DismissCircle",
            IsHighlighted = true,
            UpdateState = WhenRunning,
        });
        return trainer;
    }

    private static ResourceCommandState WhenRunning(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;

    private static HttpClient Client(EndpointReference endpoint, string apiKey) =>
        new() { BaseAddress = new Uri(endpoint.Url), Timeout = TimeSpan.FromSeconds(30), DefaultRequestHeaders = { { "X-Api-Key", apiKey } } };

    private static async Task<string> Detail(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            return JsonDocument.Parse(text).RootElement.TryGetProperty("detail", out var detail) ? $"{(int)response.StatusCode} {detail.GetString()}" : $"{(int)response.StatusCode} {text}";
        }
        catch (JsonException)
        {
            return $"{(int)response.StatusCode} {text}";
        }
    }
}
