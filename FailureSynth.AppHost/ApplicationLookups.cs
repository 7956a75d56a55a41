using System.Globalization;
using Microsoft.Extensions.DependencyInjection;

namespace FailureSynth.AppHost;

/// <summary>What the campaign runner and fault injection need to know about a running application, from Aspire's model and notifications.</summary>
public static class ApplicationLookups
{
    public static IResource Resource(this DistributedApplication app, string name) =>
        app.Services.GetRequiredService<DistributedApplicationModel>().Resources.SingleOrDefault(r => r.Name == name)
        ?? throw new InvalidOperationException($"The application has no resource named '{name}'.");

    public static async Task<string> ConnectionStringAsync(this DistributedApplication app, string name, CancellationToken cancellationToken) =>
        app.Resource(name) is IResourceWithConnectionString resource
            ? await resource.GetConnectionStringAsync(cancellationToken) ?? throw new InvalidOperationException($"{name} has no connection string yet.")
            : throw new InvalidOperationException($"{name} carries no connection string.");

    /// <summary>The operating-system id of the first running replica of <paramref name="name"/>.</summary>
    public static async Task<int> ProcessIdAsync(this DistributedApplication app, string name, CancellationToken cancellationToken)
    {
        var states = app.Services.GetRequiredService<RestartPolicy>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            foreach (var state in states.Replicas(name))
                if (state.Snapshot.State?.Text == KnownResourceStates.Running
                    && state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } value
                    && int.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                    return ServiceProcess(pid);
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"{name} has no running process.");
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>
    /// DCP starts a project as <c>dotnet run --no-build</c>, which runs the service as its child, and rabbitmq-server's
    /// script runs the broker's Erlang VM as its child: the server's own process is that child when there is one
    /// (killing only the launcher would leave the server running).
    /// </summary>
    private static int ServiceProcess(int pid)
    {
        string children = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task/{pid.ToString(CultureInfo.InvariantCulture)}/children";
        if (!File.Exists(children)) return pid;
        foreach (string child in File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists($"/proc/{child}/comm") && File.ReadAllText($"/proc/{child}/comm").Trim() is var comm && (comm.StartsWith("FailureSynth", StringComparison.Ordinal) || comm == "beam.smp"))
                return int.Parse(child, CultureInfo.InvariantCulture);
        return pid;
    }

    /// <summary>Every replica of <paramref name="name"/> restarted with Aspire's own restart command.</summary>
    public static async Task RestartResourceAsync(this DistributedApplication app, string name, CancellationToken cancellationToken)
    {
        var commands = app.Services.GetRequiredService<ResourceCommandService>();
        foreach (string id in app.Services.GetRequiredService<RestartPolicy>().Replicas(name).Select(r => r.ResourceId))
        {
            var result = await commands.ExecuteCommandAsync(id, KnownResourceCommands.RestartCommand, cancellationToken);
            if (!result.Success) throw new InvalidOperationException($"Restarting {id} failed: {result.Message}");
        }
    }

    /// <summary>The trainer's HTTP endpoint once it is healthy.</summary>
    public static async Task<Uri> TrainerEndpointAsync(this DistributedApplication app, CancellationToken cancellationToken)
    {
        await app.Services.GetRequiredService<ResourceNotificationService>().WaitForResourceHealthyAsync("trainer", cancellationToken);
        return ((IResourceWithEndpoints)app.Resource("trainer")).GetEndpoint("http").Url is { } url ? new Uri(url) : throw new InvalidOperationException("The trainer has no HTTP endpoint.");
    }
}
