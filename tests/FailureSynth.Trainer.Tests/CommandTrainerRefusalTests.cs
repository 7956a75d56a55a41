using System.Net;
using System.Text.Json;
using FailureSynth.Loop.Campaigns;

namespace FailureSynth.Trainer.Tests;

/// <summary>The campaign API never runs a training command named in a request (trainer.backend: command); the CLI does.</summary>
public sealed class CommandTrainerRefusalTests
{
    // A command that would leave a file behind if the server ever ran it.
    private static string Yaml(string marker) =>
        "name: cmd\niterations: 1\nvalidation: { count: 100 }\ntest: { count: 100 }\nbudget: { distill: 0 }\n" +
        $"trainer:\n  backend: command\n  command: [sh, -c, \"touch {marker}\"]\n";

    [Fact]
    public async Task Campaign_with_a_command_trainer_is_refused_with_400_naming_the_key_and_the_cli()
    {
        await using var host = await ApiHost.StartAsync();
        string marker = Path.Combine(host.Root, "ran");
        // The config is valid for the CLI: only the API refuses it.
        Assert.True(CampaignConfig.Parse(Yaml(marker), "t.yaml").Trainer!.IsCommand);
        using var response = await host.Http.SendAsync(host.PostYaml(Yaml(marker)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        string detail = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString()!;
        Assert.Contains("trainer.backend 'command' is refused by the campaign API", detail, StringComparison.Ordinal);
        Assert.Contains("failuresynth campaign run --config", detail, StringComparison.Ordinal);
        Assert.Empty(host.CampaignFolders());
        Assert.False(File.Exists(marker));
        // The embedded trainer, said explicitly, is still accepted up to the checks after it (here the active-campaign limit).
        await using var full = await ApiHost.StartAsync(new Dictionary<string, string?> { ["FailureSynth:Api:ActiveCampaigns"] = "0" });
        using var embedded = await full.Http.SendAsync(full.PostYaml("name: e\nvalidation: { count: 100 }\ntest: { count: 100 }\ntrainer: { backend: embedded }\n"));
        Assert.Equal(HttpStatusCode.TooManyRequests, embedded.StatusCode);
    }

    [Fact]
    public async Task Unfinished_command_trainer_campaign_in_the_data_root_is_failed_not_resumed()
    {
        const string id = "cmd-20261207-000000-abcdef";
        string? marker = null;
        await using var host = await ApiHost.StartAsync(prepare: root =>
        {
            // A folder written before the API refused command trainers, or by hand: a restarted Trainer must not run it.
            marker = Path.Combine(root, "ran");
            string dir = Path.Combine(root, "campaigns", id);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, CampaignManager.ConfigFile), Yaml(marker));
            var queued = new CampaignStatus(id, "cmd", CampaignState.Queued, DateTimeOffset.UtcNow, null, null, [], null, null, null, null, null);
            File.WriteAllText(Path.Combine(dir, CampaignManager.StatusFile), JsonSerializer.Serialize(queued, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        });
        using var response = await host.Http.SendAsync(host.Request(HttpMethod.Get, $"/campaigns/{id}"));
        var campaign = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Failed", campaign.GetProperty("state").GetString());
        Assert.Contains("trainer.backend 'command' is refused by the campaign API", campaign.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }
}
