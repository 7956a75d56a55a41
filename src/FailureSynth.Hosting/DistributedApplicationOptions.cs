using System.Globalization;

namespace FailureSynth.Hosting;

/// <summary>
/// How the AppHost builds, starts, watches and stops its resources. <see cref="FromArgs"/> reads
/// the command-line options; anything it does not know stays in <see cref="Args"/> for the AppHost.
/// </summary>
public sealed record DistributedApplicationOptions
{
    /// <summary>Command-line arguments the orchestrator did not consume.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>Relative project paths and working directories are resolved against this folder (the AppHost's).</summary>
    public string ProjectDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>Logs and server data go under this folder; a fresh one under the temp folder when not set.</summary>
    public string? RunDirectory { get; init; }

    /// <summary>Build configuration of the projects. Release, because the services do numeric work.</summary>
    public string Configuration { get; init; } = "Release";

    /// <summary>Run projects from their existing build output instead of building them first.</summary>
    public bool SkipBuild { get; init; }

    /// <summary>Where replica output is echoed with a <c>[name-replica]</c> prefix; null echoes nothing.</summary>
    public TextWriter? Echo { get; init; } = Console.Out;

    /// <summary>How long a resource may take from its first process start to healthy.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a process gets between SIGTERM and SIGKILL.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Health endpoint polling while a replica is not healthy.</summary>
    public TimeSpan HealthProbeInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Health endpoint polling once a replica is healthy.</summary>
    public TimeSpan HealthCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Injected as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> into projects when set (the dashboard's OTLP receiver).</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>Injected as <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>: <c>grpc</c> or <c>http/protobuf</c>.</summary>
    public string OtlpProtocol { get; init; } = "http/protobuf";

    /// <summary>Injected as <c>DOTNET_ENVIRONMENT</c> and <c>ASPNETCORE_ENVIRONMENT</c> into projects.</summary>
    public string EnvironmentName { get; init; } = "Development";

    /// <summary>Output lines kept in memory per replica for the dashboard (the log files keep everything).</summary>
    public int LogLinesKept { get; init; } = 2000;

    /// <summary>The options the orchestrator reads from the command line, with their meaning, for --help texts.</summary>
    public static IReadOnlyList<(string Option, string Meaning)> CommandLineOptions { get; } =
    [
        ("--no-build", "run projects from their existing build output"),
        ("--configuration, -c <name>", "build configuration of the projects (default Release)"),
        ("--run-dir <folder>", "where logs and server data go (default: a new folder under the temp folder)"),
        ("--otlp-endpoint <url>", "OTLP receiver the services export telemetry to"),
        ("--otlp-protocol <grpc|http/protobuf>", "protocol for --otlp-endpoint (default http/protobuf)"),
        ("--start-timeout <seconds>", "how long a resource may take to become healthy (default 60)"),
        ("--stop-timeout <seconds>", "grace between SIGTERM and SIGKILL (default 10)"),
        ("--quiet", "do not echo the services' output"),
    ];

    /// <summary>Reads the orchestrator's options from the command line; other arguments are kept in <see cref="Args"/>.</summary>
    public static DistributedApplicationOptions FromArgs(IReadOnlyList<string> args)
    {
        var options = new DistributedApplicationOptions();
        var rest = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new DistributedApplicationException($"The option {arg} needs a value (see {string.Join(", ", CommandLineOptions.Select(o => o.Option))}).");
                return args[++i];
            }
            options = arg switch
            {
                "--no-build" => options with { SkipBuild = true },
                "--configuration" or "-c" => options with { Configuration = Value() },
                "--run-dir" => options with { RunDirectory = Path.GetFullPath(Value()) },
                "--otlp-endpoint" => options with { OtlpEndpoint = ParseEndpoint(arg, Value()) },
                "--otlp-protocol" => options with { OtlpProtocol = ParseProtocol(arg, Value()) },
                "--start-timeout" => options with { StartTimeout = ParseSeconds(arg, Value()) },
                "--stop-timeout" => options with { StopTimeout = ParseSeconds(arg, Value()) },
                "--quiet" => options with { Echo = null },
                _ => Keep(options, rest, arg),
            };
        }
        return options with { Args = rest };
    }

    private static DistributedApplicationOptions Keep(DistributedApplicationOptions options, List<string> rest, string arg)
    {
        rest.Add(arg);
        return options;
    }

    internal static Uri ParseEndpoint(string source, string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new DistributedApplicationException($"{source} is '{value}', which is not an absolute http:// or https:// URL; give the OTLP receiver's address, e.g. http://localhost:18890.");

    internal static string ParseProtocol(string source, string value) =>
        value is "grpc" or "http/protobuf"
            ? value
            : throw new DistributedApplicationException($"{source} is '{value}'; use 'grpc' or 'http/protobuf'.");

    private static TimeSpan ParseSeconds(string option, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds > 0 && seconds <= 3600
            ? TimeSpan.FromSeconds(seconds)
            : throw new DistributedApplicationException($"{option} is '{value}'; give a number of seconds between 0 and 3600, e.g. {option} 30.");

    internal void Validate()
    {
        if (StartTimeout <= TimeSpan.Zero) throw new DistributedApplicationException($"StartTimeout is {StartTimeout}; it must be positive.");
        if (StopTimeout < TimeSpan.Zero) throw new DistributedApplicationException($"StopTimeout is {StopTimeout}; it must not be negative.");
        if (HealthProbeInterval <= TimeSpan.Zero || HealthCheckInterval <= TimeSpan.Zero)
            throw new DistributedApplicationException("HealthProbeInterval and HealthCheckInterval must be positive.");
        if (string.IsNullOrWhiteSpace(Configuration)) throw new DistributedApplicationException("Configuration is empty; give a build configuration such as Release or Debug.");
        if (LogLinesKept < 1) throw new DistributedApplicationException($"LogLinesKept is {LogLinesKept}; keep at least one line.");
        if (OtlpEndpoint is not null)
        {
            ParseEndpoint(nameof(OtlpEndpoint), OtlpEndpoint.OriginalString);
            ParseProtocol(nameof(OtlpProtocol), OtlpProtocol);
        }
    }
}

/// <summary>An error in the application model or while running it that the AppHost's user can fix; its message says how.</summary>
public sealed class DistributedApplicationException(string message, Exception? inner = null) : Exception(message, inner);
