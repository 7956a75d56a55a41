using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FailureSynth.AppHost;

/// <summary>Marks a resource that the AppHost brings back after a crash, at most <see cref="MaxRestarts"/> times per replica.</summary>
public sealed record RestartOnCrashAnnotation(int MaxRestarts) : IResourceAnnotation;

public static class RestartPolicyExtensions
{
    /// <summary>
    /// DCP does not restart a process that died (the resource stays Exited), where Kubernetes would: this keeps that
    /// guarantee. A replica that exits with a non-zero code while the AppHost is not stopping is restarted with
    /// Aspire's own restart command, at most <paramref name="maxRestarts"/> times. A replica stopped on purpose (from
    /// the dashboard, or a graceful stop that exits 0) stays stopped.
    /// </summary>
    public static IResourceBuilder<T> WithRestartOnCrash<T>(this IResourceBuilder<T> resource, int maxRestarts = 10) where T : IResource
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRestarts);
        var services = resource.ApplicationBuilder.Services;
        if (!services.Any(d => d.ServiceType == typeof(RestartPolicy)))
        {
            services.AddSingleton<RestartPolicy>();
            services.AddHostedService(sp => sp.GetRequiredService<RestartPolicy>());
        }
        return resource.WithAnnotation(new RestartOnCrashAnnotation(maxRestarts), ResourceAnnotationMutationBehavior.Replace);
    }
}

/// <summary>
/// Watches resource states through Aspire's notifications and restarts crashed replicas (see
/// <see cref="RestartPolicyExtensions.WithRestartOnCrash"/>); keeps each replica's latest state for fault injection and tests.
/// </summary>
public sealed class RestartPolicy(
    ResourceNotificationService notifications,
    ResourceCommandService commands,
    IHostApplicationLifetime lifetime,
    ILogger<RestartPolicy> logger) : BackgroundService
{
    private static readonly string[] CrashedStates = [KnownResourceStates.Exited, KnownResourceStates.Finished, KnownResourceStates.FailedToStart];
    private readonly ConcurrentDictionary<string, int> _restarts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _restarting = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, ResourceEvent> _latest = new(StringComparer.Ordinal);

    /// <summary>Restarts so far, per replica (resource id).</summary>
    public IReadOnlyDictionary<string, int> Restarts => _restarts;

    /// <summary>The latest state of each replica of the resource named <paramref name="name"/>, in order of their ids.</summary>
    public IReadOnlyList<ResourceEvent> Replicas(string name) =>
        [.. _latest.Values.Where(e => e.Resource.Name == name).OrderBy(e => e.ResourceId, StringComparer.Ordinal)];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (ResourceEvent change in notifications.WatchAsync(stoppingToken))
            {
                _latest[change.ResourceId] = change;
                if (!change.Resource.TryGetLastAnnotation(out RestartOnCrashAnnotation? policy)) continue;
                var snapshot = change.Snapshot;
                if (snapshot.State?.Text is not { } state || !CrashedStates.Contains(state)) continue;
                // A graceful stop (the dashboard's Stop, the AppHost shutting down) exits 0: only a crash is restarted.
                if (snapshot.ExitCode is 0) continue;
                if (lifetime.ApplicationStopping.IsCancellationRequested) break;
                if (!_restarting.TryAdd(change.ResourceId, true)) continue;
                _ = RestartAsync(change.ResourceId, state, snapshot.ExitCode, policy.MaxRestarts, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RestartAsync(string resourceId, string state, int? exitCode, int maxRestarts, CancellationToken cancellationToken)
    {
        try
        {
            int done = _restarts.GetValueOrDefault(resourceId);
            if (done >= maxRestarts)
            {
                logger.LogError("{Resource} {State} (exit code {ExitCode}) after {Restarts} restarts; the restart policy gives up (cap {Cap})", resourceId, state, exitCode, done, maxRestarts);
                return;
            }
            _restarts[resourceId] = done + 1;
            logger.LogWarning("{Resource} {State} (exit code {ExitCode}); restarting it ({Restart}/{Cap})", resourceId, state, exitCode, done + 1, maxRestarts);
            var result = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.RestartCommand, cancellationToken);
            if (!result.Success) logger.LogError("Restarting {Resource} failed: {Error}", resourceId, result.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _restarting.TryRemove(resourceId, out _);
        }
    }
}
