using System.Text.Json;

namespace FailureSynth.SystemTests;

[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<SystemFixture>
{
    public const string Name = "system";
}

/// <summary>
/// The campaign run through the AppHost and the five services must give the in-process dataset and accuracies,
/// also when services are killed, Redis is flushed or the broker restarts midway, and leave nothing running.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DistributedCampaignTests(SystemFixture fixture)
{
    [Fact]
    public async Task Distributed_campaign_matches_the_in_process_one_and_leaves_no_process()
    {
        var run = await fixture.RunAppHostAsync("plain");

        AssertSameCampaign(run);
        Assert.Contains("dead-lettered: 0", run.Output);
        Assert.Contains("messages left in service queues: 0", run.Output);
        Assert.True(run.ProcessIds.Count >= 7, "expected the broker, Redis and five services in the output:\n" + run.Output);
        Assert.Empty(run.Survivors);
    }

    [Fact]
    public async Task Killed_services_a_killed_trainer_and_a_flushed_cache_change_nothing()
    {
        var run = await fixture.RunAppHostAsync("faults",
            "--fault", "locate=kill:teacher", "--fault", "prescribe=kill:imagesynth", "--fault", "train=kill:trainer",
            "--fault", "2:evaluate=flush:cache", "--fault", "2:prescribe=kill:qualityfilter");

        AssertSameCampaign(run);
        Assert.Contains("[fault] kill -9 teacher-0", run.Output);
        Assert.Contains("[fault] kill -9 imagesynth-0", run.Output);
        Assert.Contains("[fault] Redis FLUSHALL", run.Output);
        Assert.DoesNotContain("not injected", run.Output);
        Assert.Matches(@"teacher-0: Restarting", run.Output);
        Assert.Matches(@"trainer-0: Healthy \(pid \d+\) restarts 1", run.Output);
        Assert.Contains("dead-lettered: 0", run.Output);
        Assert.Empty(run.Survivors);
    }

    [Fact]
    public async Task Broker_restart_and_a_malformed_message_change_nothing_and_the_message_is_dead_lettered()
    {
        var run = await fixture.RunAppHostAsync("broker", "--fault", "prescribe=restart:messaging", "--fault", "2:locate=poison:teacher");

        AssertSameCampaign(run);
        Assert.Contains("[fault] SIGTERM to rabbitmq-server", run.Output);
        Assert.Matches(@"messaging-0: Restarting", run.Output);
        Assert.Contains("failuresynth.teacher.dead: FailureCollected poison-teacher:", run.Output);
        Assert.Contains("missing required properties", run.Output);
        Assert.Contains("dead-lettered: 1", run.Output);
        Assert.Empty(run.Survivors);
    }

    [Fact]
    public async Task Retrieval_through_the_teacher_service_matches_the_in_process_campaign()
    {
        var reference = await new FailureSynth.Loop.Campaigns.CampaignRunner(
            FailureSynth.Loop.Campaigns.CampaignConfig.Parse(fixture.RetrievalYaml, fixture.RetrievalCampaignFile), Path.Combine(fixture.Root, "retrieve-in-process"), fixture.Root)
            .RunAsync(null, CancellationToken.None);

        var run = await fixture.RunAppHostAsync("retrieve", "--campaign", fixture.RetrievalCampaignFile);

        Assert.True(run.ExitCode == 0, $"AppHost exited {run.ExitCode}:\n{run.Output}");
        Assert.True(reference.Report.DatasetSamples > 0);
        Assert.Equal(File.ReadAllText(Path.Combine(reference.DatasetDirectory, "manifest.json")), run.Manifest);
        Assert.Contains("dead-lettered: 0", run.Output);
    }

    [Fact]
    public async Task Ctrl_C_during_a_campaign_stops_every_process_the_AppHost_started()
    {
        var run = await fixture.RunAppHostInterruptedAsync("interrupted", "iteration 1: locate");

        Assert.True(run.ExitCode == 130, $"AppHost exited {run.ExitCode}, expected 130 after Ctrl+C:\n{run.Output}");
        Assert.Contains("interrupted; stopping everything", run.Output);
        Assert.True(run.ProcessIds.Count >= 7, "expected the broker, Redis and five services in the output:\n" + run.Output);
        Assert.Empty(run.Survivors);
    }

    private void AssertSameCampaign(AppHostRun run)
    {
        Assert.True(run.ExitCode == 0, $"AppHost exited {run.ExitCode}:\n{run.Output}");
        Assert.Equal(fixture.ReferenceManifest, run.Manifest);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.OutputDirectory, "report.json")));
        Assert.Equal(fixture.Reference.FinalTestAccuracy, report.RootElement.GetProperty("final_test_accuracy").GetDouble());
        Assert.Equal(fixture.Reference.BaseTestAccuracy, report.RootElement.GetProperty("base_test_accuracy").GetDouble());
    }
}
