using System.Diagnostics;

namespace FailureSynth.AppHost;

/// <summary>Where RabbitMQ and Redis come from: Aspire's container resources, or local processes from the OS packages.</summary>
public enum InfrastructureKind
{
    Containers,
    Processes,
}

/// <summary>
/// <c>messaging</c> and <c>cache</c> as Aspire's standard container resources where a container runtime is healthy,
/// else as DCP-managed local processes; either way a resource with a connection string, so services reference and
/// wait for them the same way. The setting <c>FailureSynth:Infrastructure</c> (<c>--infrastructure</c>) forces one:
/// <c>containers</c>, <c>processes</c> or <c>auto</c> (the default).
/// </summary>
public static class InfrastructureExtensions
{
    public const string SettingKey = "FailureSynth:Infrastructure";

    public static InfrastructureKind ChooseInfrastructure(this IDistributedApplicationBuilder builder)
    {
        string setting = builder.Configuration[SettingKey] ?? "auto";
        return setting.ToLowerInvariant() switch
        {
            "containers" => InfrastructureKind.Containers,
            "processes" => InfrastructureKind.Processes,
            "auto" => ContainerRuntimeIsHealthy(builder.Configuration["ASPIRE_CONTAINER_RUNTIME"] ?? builder.Configuration["DOTNET_ASPIRE_CONTAINER_RUNTIME"] ?? "docker")
                ? InfrastructureKind.Containers
                : InfrastructureKind.Processes,
            _ => throw new DistributedApplicationException($"{SettingKey} (--infrastructure) is '{setting}'; use containers, processes or auto."),
        };
    }

    /// <summary>RabbitMQ, named <paramref name="name"/>.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddMessaging(this IDistributedApplicationBuilder builder, string name, InfrastructureKind kind, string dataDirectory) =>
        kind == InfrastructureKind.Containers
            ? builder.CreateResourceBuilder<IResourceWithConnectionString>(builder.AddRabbitMQ(name).Resource)
            : builder.CreateResourceBuilder<IResourceWithConnectionString>(builder.AddLocalRabbitMQ(name, dataDirectory).WithRestartOnCrash().Resource);

    /// <summary>Redis, named <paramref name="name"/>.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddCache(this IDistributedApplicationBuilder builder, string name, InfrastructureKind kind, string dataDirectory) =>
        kind == InfrastructureKind.Containers
            ? builder.CreateResourceBuilder<IResourceWithConnectionString>(builder.AddRedis(name).Resource)
            : builder.CreateResourceBuilder<IResourceWithConnectionString>(builder.AddLocalRedis(name, dataDirectory).WithRestartOnCrash().Resource);

    /// <summary>
    /// Whether the runtime DCP would use answers <c>info</c> within 5 s. Without one, Aspire's containers would stay
    /// <c>RuntimeUnhealthy</c> and everything waiting for them would wait forever.
    /// </summary>
    private static bool ContainerRuntimeIsHealthy(string runtime)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, ["info"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null) return false;
            process.StandardOutput.ReadToEndAsync();
            process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }
}
