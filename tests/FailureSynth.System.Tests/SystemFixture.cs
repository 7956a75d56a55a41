using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using FailureSynth.AppHost;
using FailureSynth.Loop.Campaigns;
using Microsoft.Extensions.DependencyInjection;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace FailureSynth.SystemTests;

[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<SystemFixture>
{
    public const string Name = "system";
}

/// <summary>
/// A small campaign run once in-process (the reference every distributed run must match), and the whole AppHost
/// (messaging, cache and the five services as DCP-managed processes) started through Aspire.Hosting.Testing.
/// </summary>
public sealed class SystemFixture : IAsyncLifetime
{
    public const string ApiKey = "system-test-key-0123456789";

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "fs-system-tests-" + Guid.NewGuid().ToString("N")[..8]);
    public string CampaignFile => Path.Combine(Root, "small.yaml");
    public CampaignReport Reference { get; private set; } = null!;
    public string ReferenceManifest { get; private set; } = null!;
    public DistributedApplication App { get; private set; } = null!;
    public Uri Trainer { get; private set; } = null!;

    // Big enough that each stage lasts long enough for a fault to land inside it; small enough for seconds. No paths:
    // the campaign API refuses any outside its roots, so the base student is cached under out/cache of each run's root.
    public string Yaml => $$"""
        name: small
        seed: 5
        threads: 2
        iterations: 2
        student:
          base: { profile: base-skewed, count: 800, seed: 1 }
          base_steps: 40
          base_seed: 1
        validation: { profile: balanced, count: 600, seed: 101 }
        test: { profile: balanced, count: 200, seed: 2 }
        budget: { failures: 120, samples: 300, train_steps: 8 }
        teacher: { prior_samples: 3000 }
        """;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        await File.WriteAllTextAsync(CampaignFile, Yaml);
        var runner = new CampaignRunner(CampaignConfig.Parse(Yaml, CampaignFile), Path.Combine(Root, "in-process"), Root);
        var result = await runner.RunAsync(null, CancellationToken.None);
        Reference = result.Report;
        ReferenceManifest = await File.ReadAllTextAsync(Path.Combine(result.DatasetDirectory, "manifest.json"));
        App = await StartAppHostAsync(Path.Combine(Root, "apphost"));
        Trainer = await App.TrainerEndpointAsync(CancellationToken.None);
    }

    /// <summary>The AppHost of the repository, every resource healthy; local processes for the broker and the cache.</summary>
    public static async Task<DistributedApplication> StartAppHostAsync(string runDirectory)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.FailureSynth_AppHost>(
            ["--FailureSynth:Infrastructure=processes", $"--FailureSynth:RunDirectory={runDirectory}", $"--FailureSynth:ApiKey={ApiKey}"]);
        var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await app.StartAsync(timeout.Token);
        var notifications = app.Services.GetRequiredService<ResourceNotificationService>();
        foreach (string name in new[] { "messaging", "cache", "student", "teacher", "imagesynth", "qualityfilter", "trainer" })
            await notifications.WaitForResourceHealthyAsync(name, timeout.Token);
        return app;
    }

    public async Task DisposeAsync()
    {
        if (App is not null) await App.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
