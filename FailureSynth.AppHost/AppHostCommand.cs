using System.Globalization;

namespace FailureSynth.AppHost;

/// <summary>What the AppHost was asked to do; arguments of the form <c>--Key=Value</c> go to Aspire's configuration.</summary>
public sealed record AppHostCommand(string Kind, string? CampaignFile, string? OutputDirectory, int Proposals, IReadOnlyDictionary<string, int> Replicas,
    IReadOnlyList<Fault> Faults, IReadOnlyList<string> AspireArgs)
{
    /// <summary>bench-synthesis only: proposals per message (null: the Trainer's setting, 32 by default).</summary>
    public int? BatchSize { get; init; }

    /// <summary>bench-synthesis only: fixed CPU milliseconds per sample in rendering and in checking.</summary>
    public int WorkMs { get; init; }

    /// <summary>bench-synthesis only: proposals per request (null: the Trainer's default, 256).</summary>
    public int? Window { get; init; }

    /// <summary>bench-synthesis only: write each mode's accepted samples as a dataset and compare the two manifests.</summary>
    public bool WriteDataset { get; init; }

    /// <summary>
    /// bench-synthesis only: proposals sent through each mode, unmeasured, before it is measured (null: as many as
    /// measured, at most <see cref="CampaignClient.DefaultWarmUpProposals"/>).
    /// </summary>
    public int? WarmUp { get; init; }

    public static readonly string[] Services = ["student", "teacher", "imagesynth", "qualityfilter", "trainer"];

    public const string Usage =
        "Usage: dotnet run --project FailureSynth.AppHost [-- OPTIONS]                     bring the system up; Ctrl+C stops it\n" +
        "       dotnet run --project FailureSynth.AppHost -- run CAMPAIGN.yaml --out DIR   run one campaign through the services, then stop\n" +
        "       (relative paths are taken from the repository root)\n" +
        "       dotnet run --project FailureSynth.AppHost -- bench-synthesis [--proposals N] [--batch N] [--work-ms MS]\n" +
        "                                 [--window N] [--warmup N] [--write-dataset] [--out DIR]\n" +
        "                                 synthesis throughput through the services and in-process (DIR/bench-synthesis.json);\n" +
        "                                 --write-dataset also writes both datasets and compares their manifests;\n" +
        "                                 --warmup N proposals go through each mode unmeasured first (default: up to 200)\n" +
        "Options:\n" +
        "  --replicas SERVICE=N      replicas of a service (repeatable; student, teacher, imagesynth, qualityfilter; the trainer runs once)\n" +
        "  --fault STAGE=ACTION      with run: inject a fault once the campaign reaches STAGE (or K:STAGE for iteration K):\n" +
        "                            kill:SERVICE (kill -9, restarted by the AppHost), flush:cache (Redis FLUSHALL),\n" +
        "                            restart:messaging (Aspire's restart command on the broker), poison:SERVICE (a malformed message)\n" +
        "  --infrastructure KIND     messaging and cache as 'containers', local 'processes' (OS packages), or 'auto' (default)\n" +
        "  --run-dir DIR             where broker and cache data, and the services' shared files go\n" +
        "  --help                    this text; starts nothing\n" +
        "The dashboard's URL and login token are printed once it is up; the campaign API key is FAILURESYNTH_API_KEY or a new one per run.";

    public static bool WantsHelp(IReadOnlyList<string> args) => args.Any(a => a is "--help" or "-h" or "-?" or "help");

    public static AppHostCommand Parse(IReadOnlyList<string> args)
    {
        string kind = "up";
        string? campaign = null, output = null;
        int proposals = 2000, workMs = 0;
        int? batch = null, window = null, warmUp = null;
        bool writeDataset = false;
        var replicas = new Dictionary<string, int>(StringComparer.Ordinal);
        var faults = new List<Fault>();
        var aspire = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{a} needs a value.");
            switch (a)
            {
                case "run" when kind == "up" && i == 0:
                    kind = "run";
                    campaign = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : throw new ArgumentException("run needs a campaign file, e.g. run campaigns/demo.yaml --out out/distributed.");
                    break;
                case "bench-synthesis" when kind == "up" && i == 0:
                    kind = "bench-synthesis";
                    break;
                case "--out":
                    output = FromRepository(Value());
                    break;
                case "--proposals":
                    if (!int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out proposals) || proposals is < 1 or > 1_000_000)
                        throw new ArgumentException($"--proposals must be a whole number from 1 to 1000000 (got '{args[i]}').");
                    break;
                case "--batch":
                    if (!int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out int b) || b is < 1 or > 1024)
                        throw new ArgumentException($"--batch must be a whole number of proposals per message from 1 to 1024 (got '{args[i]}').");
                    batch = b;
                    break;
                case "--window":
                    if (!int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out int w) || w is < 1 or > 100_000)
                        throw new ArgumentException($"--window must be a whole number of proposals per request from 1 to 100000 (got '{args[i]}').");
                    window = w;
                    break;
                case "--warmup":
                    if (!int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out int u) || u > 1_000_000)
                        throw new ArgumentException($"--warmup must be a whole number of proposals from 0 to 1000000 (got '{args[i]}').");
                    warmUp = u;
                    break;
                case "--write-dataset":
                    writeDataset = true;
                    break;
                case "--work-ms":
                    if (!int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out workMs) || workMs > 1000)
                        throw new ArgumentException($"--work-ms must be a whole number of milliseconds from 0 to 1000 (got '{args[i]}').");
                    break;
                case "--fault":
                    faults.Add(Fault.Parse(Value()));
                    break;
                case "--infrastructure":
                    aspire.Add($"--{InfrastructureExtensions.SettingKey}={Value()}");
                    break;
                case "--run-dir":
                    aspire.Add($"--{RunDirectory.SettingKey}={Path.GetFullPath(Value())}");
                    break;
                case "--replicas":
                    string spec = Value();
                    string[] parts = spec.Split('=');
                    if (parts.Length != 2 || !Services.Contains(parts[0]) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 1 or > 16)
                        throw new ArgumentException($"--replicas '{spec}' must be SERVICE=N with N from 1 to 16 and SERVICE one of {string.Join(", ", Services)}.");
                    if (parts[0] == "trainer" && n != 1) throw new ArgumentException("The trainer runs as one replica (one active trainer per campaign).");
                    replicas[parts[0]] = n;
                    break;
                case var setting when setting.StartsWith("--", StringComparison.Ordinal) && setting.Contains('=', StringComparison.Ordinal):
                    aspire.Add(setting); // configuration for Aspire and the AppHost, e.g. --FailureSynth:Infrastructure=processes
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{a}'.");
            }
        }
        if (kind == "run")
        {
            if (output is null) throw new ArgumentException("run needs --out DIR: the folder the campaign's report and dataset are written to.");
            campaign = FromRepository(campaign!);
            if (!File.Exists(campaign)) throw new ArgumentException($"Campaign file '{campaign}' does not exist.");
        }
        else if (faults.Count > 0 || (output is not null && kind != "bench-synthesis")) throw new ArgumentException("--fault belongs to run, --out to run and bench-synthesis.");
        if (kind != "bench-synthesis" && (batch is not null || workMs != 0 || window is not null || writeDataset || warmUp is not null))
            throw new ArgumentException("--batch, --work-ms, --window, --warmup and --write-dataset belong to bench-synthesis.");
        return new AppHostCommand(kind, campaign, output, proposals, replicas, faults, aspire) { BatchSize = batch, WorkMs = workMs, Window = window, WriteDataset = writeDataset, WarmUp = warmUp };
    }

    /// <summary>
    /// A relative path is taken from the repository root: <c>dotnet run --project FailureSynth.AppHost</c> starts the
    /// AppHost in its own project folder, not where the command was typed.
    /// </summary>
    private static string FromRepository(string path)
    {
        if (Path.IsPathRooted(path)) return Path.GetFullPath(path);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FailureSynth.sln"))) return Path.GetFullPath(Path.Combine(dir.FullName, path));
        return Path.GetFullPath(path);
    }

    public int ReplicasOf(string service) => Replicas.TryGetValue(service, out int n) ? n : 1;
}

/// <summary>
/// The AppHost's own folder for this run: broker and cache data, and the data root every service shares (images,
/// checkpoints, campaign folders). <c>FailureSynth:RunDirectory</c> (<c>--run-dir</c>); by default
/// <c>out/apphost/TIMESTAMP</c> in the repository, or <c>DIR/.apphost</c> for <c>run … --out DIR</c> (replaced on each run).
/// </summary>
public static class RunDirectory
{
    public const string SettingKey = "FailureSynth:RunDirectory";

    public static string Prepare(IDistributedApplicationBuilder builder, AppHostCommand command)
    {
        if (builder.Configuration[SettingKey] is { Length: > 0 } chosen) return Directory.CreateDirectory(chosen).FullName;
        if (command.OutputDirectory is { } output)
        {
            string folder = Path.Combine(output, ".apphost");
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            return Directory.CreateDirectory(folder).FullName;
        }
        // Beside the repository's other outputs (dotnet run starts the AppHost in its own project folder).
        return Directory.CreateDirectory(Path.Combine(builder.AppHostDirectory, "..", "out", "apphost",
            DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture))).FullName;
    }
}
