using Microsoft.Extensions.DependencyInjection;

namespace FailureSynth.AppHost;

/// <summary>Runs what the command asked for on the built application: stay up, run one campaign, or the synthesis bench.</summary>
public static class CommandRunner
{
    public static async Task<int> RunAsync(DistributedApplication app, AppHostCommand command, string apiKey)
    {
        _ = AnnounceHealthyAsync(app);
        if (command.Kind == "up")
        {
            _ = AnnounceCampaignApiAsync(app, apiKey);
            await app.RunAsync();
            return 0;
        }
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        try
        {
            await app.StartAsync(stop.Token);
            var client = new CampaignClient(await app.TrainerEndpointAsync(stop.Token), apiKey);
            if (command.Kind != "run")
                return await client.BenchSynthesisAsync(command, stop.Token);
            int code = await client.RunAsync(command.CampaignFile!, command.OutputDirectory!, async (iteration, stage, done) =>
            {
                foreach (var fault in command.Faults.Where(f => !f.Done && f.IsDue(iteration, stage)))
                {
                    Console.WriteLine($"[fault] {fault} (campaign at iteration {iteration} {stage}, {done} done)");
                    fault.Done = true;
                    await fault.InjectAsync(app, stop.Token);
                }
            }, stop.Token);
            foreach (var fault in command.Faults.Where(f => !f.Done)) Console.WriteLine($"[fault] not injected ({fault}): the campaign never reported progress there");
            await QueueReport.PrintAsync(app, stop.Token);
            return code;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("[apphost] interrupted; stopping everything.");
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            await app.StopAsync();
        }
    }

    /// <summary>Prints, once, how long after the AppHost's start every resource was healthy.</summary>
    private static async Task AnnounceHealthyAsync(DistributedApplication app)
    {
        try
        {
            var notifications = app.Services.GetRequiredService<ResourceNotificationService>();
            var names = app.Services.GetRequiredService<DistributedApplicationModel>().Resources
                .Where(r => r is not ParameterResource && r.Annotations.OfType<HealthCheckAnnotation>().Any()).Select(r => r.Name).ToList();
            await Task.WhenAll(names.Select(n => notifications.WaitForResourceHealthyAsync(n, CancellationToken.None)));
            double seconds = (DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime).TotalSeconds;
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"[apphost] all {names.Count} resources healthy {seconds:0.0} s after the AppHost started ({string.Join(", ", names)})"));
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            // stopped first
        }
    }

    private static async Task AnnounceCampaignApiAsync(DistributedApplication app, string apiKey)
    {
        try
        {
            Uri endpoint = await app.TrainerEndpointAsync(CancellationToken.None);
            Console.WriteLine($"[apphost] campaign API: {endpoint} (header X-Api-Key: {apiKey}), e.g.\n" +
                $"  curl -H 'X-Api-Key: {apiKey}' -H 'Content-Type: application/yaml' --data-binary @campaigns/demo.yaml {endpoint}campaigns");
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            // stopped before the trainer came up: nothing to announce
        }
    }
}
