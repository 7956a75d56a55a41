using System.Globalization;

namespace FailureSynth.AppHost;

/// <summary>What the AppHost was asked to do, from the arguments the hosting options left over.</summary>
public sealed record AppHostCommand(string Kind, string? CampaignFile, string? OutputDirectory, int Proposals, IReadOnlyDictionary<string, int> Replicas, IReadOnlyList<Fault> Faults)
{
    public static readonly string[] Services = ["student", "teacher", "imagesynth", "qualityfilter", "trainer"];

    public const string Usage =
        "Usage: dotnet run --project FailureSynth.AppHost [-- OPTIONS]                     bring the system up (Ctrl+C stops it)\n" +
        "       dotnet run --project FailureSynth.AppHost -- run CAMPAIGN.yaml --out DIR   run one campaign through the services\n" +
        "       dotnet run --project FailureSynth.AppHost -- bench-synthesis [--proposals N]\n" +
        "       run ... --fault STAGE=ACTION  inject a fault midway (kill:SERVICE, flush:cache, restart:messaging, poison:SERVICE)\n" +
        "Options: --replicas SERVICE=N (repeatable; services: student, teacher, imagesynth, qualityfilter, trainer), --run-dir DIR, --no-build, --quiet.";

    public static AppHostCommand Parse(IReadOnlyList<string> args)
    {
        string kind = "up";
        string? campaign = null, output = null;
        int proposals = 2000;
        var replicas = new Dictionary<string, int>(StringComparer.Ordinal);
        var faults = new List<Fault>();
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
                    output = Path.GetFullPath(Value());
                    break;
                case "--proposals":
                    if (!int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out proposals) || proposals is < 1 or > 1_000_000)
                        throw new ArgumentException($"--proposals must be a whole number from 1 to 1000000 (got '{args[i]}').");
                    break;
                case "--fault":
                    faults.Add(Fault.Parse(Value()));
                    break;
                case "--replicas":
                    string spec = Value();
                    string[] parts = spec.Split('=');
                    if (parts.Length != 2 || !Services.Contains(parts[0]) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 1 or > 16)
                        throw new ArgumentException($"--replicas '{spec}' must be SERVICE=N with N from 1 to 16 and SERVICE one of {string.Join(", ", Services)}.");
                    if (parts[0] == "trainer" && n != 1) throw new ArgumentException("The trainer runs as one replica (one active trainer per campaign).");
                    replicas[parts[0]] = n;
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{a}'.");
            }
        }
        if (kind == "run")
        {
            if (output is null) throw new ArgumentException("run needs --out DIR: the folder the campaign's report and dataset are written to.");
            if (!File.Exists(campaign)) throw new ArgumentException($"Campaign file '{campaign}' does not exist.");
            campaign = Path.GetFullPath(campaign!);
        }
        else if (output is not null || faults.Count > 0) throw new ArgumentException("--out and --fault belong to run.");
        return new AppHostCommand(kind, campaign, output, proposals, replicas, faults);
    }
}

/// <summary>Finds the repository (the folder holding FailureSynth.sln) the AppHost was built from.</summary>
public static class Repository
{
    public static string Root()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "FailureSynth.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("FailureSynth.sln was not found above the current folder or the AppHost's own folder; run the AppHost from the repository.");
    }
}
