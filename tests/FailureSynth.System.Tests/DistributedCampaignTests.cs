using System.Text;
using System.Text.Json;
using FailureSynth.AppHost;
using RabbitMQ.Client;

namespace FailureSynth.SystemTests;

/// <summary>
/// The campaign run through the AppHost's services must give the in-process dataset and accuracies, also when the
/// Teacher and ImageSynth are killed (kill -9, brought back by the AppHost's restart policy), Redis is flushed and
/// the broker restarted midway; a malformed message lands in the dead-letter queue with its reason.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DistributedCampaignTests(SystemFixture fixture)
{
    [Fact]
    public async Task Killed_services_a_flushed_cache_a_restarted_broker_and_a_malformed_message_change_nothing()
    {
        string output = Path.Combine(fixture.Root, "faults");
        Fault[] faults =
        [
            Fault.Parse("locate=kill:teacher"), Fault.Parse("locate=poison:teacher"), Fault.Parse("prescribe=kill:imagesynth"),
            Fault.Parse("train=restart:messaging"), Fault.Parse("2:evaluate=flush:cache"),
        ];
        var policy = fixture.App.Services.GetService(typeof(RestartPolicy)) as RestartPolicy ?? throw new InvalidOperationException("no restart policy");
        int teacherPid = await fixture.App.ProcessIdAsync("teacher", CancellationToken.None);
        var client = new CampaignClient(fixture.Trainer, SystemFixture.ApiKey);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));

        int code = await client.RunAsync(fixture.CampaignFile, output, async (iteration, stage, _) =>
        {
            foreach (var fault in faults.Where(f => !f.Done && f.IsDue(iteration, stage)))
            {
                fault.Done = true;
                await fault.InjectAsync(fixture.App, timeout.Token);
            }
        }, timeout.Token);

        Assert.Equal(0, code);
        Assert.All(faults, f => Assert.True(f.Done, $"not injected: {f}"));
        Assert.Equal(fixture.ReferenceManifest, File.ReadAllText(Path.Combine(output, "dataset", "manifest.json")));
        using (var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json"))))
        {
            Assert.Equal(fixture.Reference.FinalTestAccuracy, report.RootElement.GetProperty("final_test_accuracy").GetDouble());
            Assert.Equal(fixture.Reference.BaseTestAccuracy, report.RootElement.GetProperty("base_test_accuracy").GetDouble());
        }
        // The killed services came back through the restart policy (Aspire's restart command), as new processes.
        Assert.Contains(policy.Restarts, r => r.Key.StartsWith("teacher", StringComparison.Ordinal) && r.Value >= 1);
        Assert.Contains(policy.Restarts, r => r.Key.StartsWith("imagesynth", StringComparison.Ordinal) && r.Value >= 1);
        Assert.NotEqual(teacherPid, await fixture.App.ProcessIdAsync("teacher", CancellationToken.None));

        // The malformed message is in the teacher's dead-letter queue, with the reason; nothing else is.
        var factory = new ConnectionFactory { Uri = new Uri(await fixture.App.ConnectionStringAsync("messaging", CancellationToken.None)) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var dead = await channel.BasicGetAsync("failuresynth.teacher.dead", autoAck: true);
        Assert.NotNull(dead);
        Assert.Equal("poison-teacher", dead.BasicProperties.MessageId);
        string reason = Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["x-failure-reason"]!);
        Assert.Contains("missing required properties", reason);
        foreach (string service in AppHostCommand.Services)
            Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync($"failuresynth.{service}.dead")).MessageCount);
    }
}
