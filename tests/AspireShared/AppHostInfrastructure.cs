using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using FailureSynth.AppHost;
using Microsoft.Extensions.DependencyInjection;

namespace FailureSynth.Tests.Aspire;

/// <summary>
/// The AppHost's own <c>messaging</c> (RabbitMQ with its epmd) and <c>cache</c> (Redis), started through
/// Aspire.Hosting.Testing without the services: the bus and cache tests run against exactly what the system runs on.
/// </summary>
public sealed class AppHostInfrastructure : IAsyncLifetime
{
    private readonly string _runDirectory = Path.Combine(Path.GetTempPath(), "fs-infra-" + Guid.NewGuid().ToString("N")[..8]);

    public DistributedApplication App { get; private set; } = null!;

    public string MessagingConnectionString { get; private set; } = "";

    public string CacheConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.FailureSynth_AppHost>(
            ["--FailureSynth:Services=none", "--FailureSynth:Infrastructure=processes", $"--FailureSynth:RunDirectory={_runDirectory}"]);
        App = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        await App.StartAsync(timeout.Token);
        var notifications = App.Services.GetRequiredService<ResourceNotificationService>();
        await notifications.WaitForResourceHealthyAsync("messaging", timeout.Token);
        await notifications.WaitForResourceHealthyAsync("cache", timeout.Token);
        MessagingConnectionString = await App.ConnectionStringAsync("messaging", timeout.Token);
        CacheConnectionString = await App.ConnectionStringAsync("cache", timeout.Token);
    }

    /// <summary>Restarts the resource with Aspire's restart command and waits until it is healthy again.</summary>
    public async Task RestartAsync(string name)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        // On a loaded machine the new broker can fail its first start while the old node still holds its ports; the
        // AppHost's restart policy would start it again, as Kubernetes would: so does this helper, a bounded number of times,
        // waiting longer each time (a suite run on 2 cores once saw three starts fail within seconds of each other).
        for (int attempt = 1; ; attempt++)
        {
            await App.RestartResourceAsync(name, timeout.Token);
            try
            {
                await App.Services.GetRequiredService<ResourceNotificationService>().WaitForResourceHealthyAsync(name, timeout.Token);
                return;
            }
            catch (DistributedApplicationException) when (attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(2 * attempt), timeout.Token);
            }
        }
    }

    /// <summary>Stops the resource with Aspire's stop command (it stays stopped: a graceful stop is not a crash).</summary>
    public Task StopAsync(string name) => CommandAsync(name, KnownResourceCommands.StopCommand);

    /// <summary>Starts a stopped resource with Aspire's start command and waits until it is healthy.</summary>
    public async Task StartAsync(string name)
    {
        await CommandAsync(name, KnownResourceCommands.StartCommand);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await App.Services.GetRequiredService<ResourceNotificationService>().WaitForResourceHealthyAsync(name, timeout.Token);
    }

    private async Task CommandAsync(string name, string command)
    {
        var commands = App.Services.GetRequiredService<ResourceCommandService>();
        foreach (string id in App.Services.GetRequiredService<RestartPolicy>().Replicas(name).Select(r => r.ResourceId))
        {
            var result = await commands.ExecuteCommandAsync(id, command, CancellationToken.None);
            Assert.True(result.Success, $"{command} on {id} failed: {result.Message}");
        }
    }

    /// <summary>kill -9 of the resource's process; the AppHost's restart policy brings it back.</summary>
    public async Task<int> KillAsync(string name)
    {
        int pid = await App.ProcessIdAsync(name, CancellationToken.None);
        System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: false);
        return pid;
    }

    public async Task DisposeAsync()
    {
        if (App is not null) await App.DisposeAsync();
        try { Directory.Delete(_runDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
