using System.Globalization;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Teacher;
using FailureSynth.World;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace FailureSynth.Loop.Campaigns;

/// <summary>A generated split: profile (a built-in name or a profile file's path), sample count and seed.</summary>
public sealed class SplitConfig
{
    public string Profile { get; set; } = Profiles.BalancedName;
    public int Count { get; set; }
    public long Seed { get; set; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Profile}/{Count}/seed {Seed}");
}

/// <summary>The student to start from: a checkpoint, or a base training recipe whose result is cached.</summary>
public sealed class StudentConfig
{
    /// <summary>Checkpoint to start from; when null the base recipe below is trained (or taken from the cache).</summary>
    public string? Checkpoint { get; set; }
    public SplitConfig Base { get; set; } = new() { Profile = Profiles.BaseSkewedName, Count = 20_000, Seed = 1 };
    public int BaseSteps { get; set; } = 2150;
    public long BaseSeed { get; set; } = 1;
    /// <summary>Folder of cached base checkpoints, keyed by the hash of the base recipe (a relative path is resolved against the runner's base folder: the current directory for the CLI).</summary>
    public string Cache { get; set; } = "out/cache";

    /// <summary>
    /// A path of this section (<see cref="Checkpoint"/>, <see cref="Cache"/>) as used: relative paths are resolved
    /// against <paramref name="baseDirectory"/> (the config's folder for experiments, the current directory for the CLI);
    /// rooted ones are kept as given.
    /// </summary>
    public static string Resolve(string baseDirectory, string path) => Path.Combine(baseDirectory, path);
}

/// <summary>Per-iteration budgets.</summary>
public sealed class BudgetConfig
{
    public int Failures { get; set; } = 400;
    public int Samples { get; set; } = 1000;
    public int TrainSteps { get; set; } = 300;
    public double LearningRate { get; set; } = 5e-4;
    /// <summary>
    /// Original samples replayed per prescribed sample. 1.0 (half of each batch is new data): with 3.0 the prescribed
    /// data was a quarter of each batch and targeted-vs-random at N = 4,000 gained 2.5 points over fresh base data
    /// instead of 3.6 (README, "Demo campaign and experiments").
    /// </summary>
    public double Replay { get; set; } = 1.0;
    /// <summary>
    /// Weight of distillation toward the starting checkpoint's answers on the replayed samples (0 = off). With the contrast
    /// split by confusions, 1.0 cut targeted-vs-random's largest per-skill drop (query/color=blue) from 12.3 to 2.7 points
    /// at N = 1,000 and from 11.3 to 6.0 at N = 4,000, for 0.8 / 1.4 points of overall accuracy (README, "Forgetting").
    /// </summary>
    public double Distill { get; set; } = 1.0;
    /// <summary>
    /// Keep the starting checkpoint's batch-norm statistics while fine-tuning (default off). Off is stored as null, which the
    /// config's JSON leaves out, so configs, resumed campaigns and cached experiment runs from before the setting existed keep
    /// their keys. Measured in the README ("Frozen batch-norm statistics").
    /// </summary>
    public bool? FreezeNorm { get => freezeNorm; set => freezeNorm = value == true ? true : null; }

    /// <summary>
    /// Share of the starting checkpoint's weights mixed back into the fine-tuned ones (weight-space interpolation, 0 = off).
    /// Off is stored as null, left out of the config's JSON like <see cref="FreezeNorm"/>, so older cached runs keep their keys.
    /// Chosen by a sweep on a tuning split, never the test split (README, "Forgetting at N = 1,000").
    /// </summary>
    public double? KeepStart { get => keepStart; set => keepStart = value == 0 ? null : value; }

    /// <summary>
    /// Turns off the gain ledger (<see cref="GainLedger"/>): every iteration then splits the budget by failures only and trains
    /// <see cref="TrainSteps"/> steps. Off (the ledger on) is stored as null and left out of the JSON, like <see cref="FreezeNorm"/>.
    /// </summary>
    public bool? FixedPlan { get => fixedPlan; set => fixedPlan = value == true ? true : null; }

    private bool? freezeNorm;
    private double? keepStart;
    private bool? fixedPlan;
}

/// <summary>Locator choice and answer-switch parameters.</summary>
public sealed class LocateConfig
{
    public string Method { get; set; } = "answer-switch";
    public double Bias { get; set; } = Locate.AnswerSwitchLocator.DefaultBias;
    public double Delta { get; set; } = Locate.AnswerSwitchLocator.DefaultDelta;
    public int Lambda { get; set; } = Locate.AnswerSwitchLocator.DefaultLambda;
}

/// <summary>The embedded teacher's settings.</summary>
public sealed class TeacherConfig
{
    public long Seed { get; set; } = 17;
    public double Trust { get; set; } = 0.97;
    public double ProposalNoise { get; set; } = 0.05;
    public int PriorSamples { get; set; } = 30_000;

    public EmbeddedTeacherOptions ToOptions() => new(Seed, Trust, ProposalNoise, PriorSamples);
}

/// <summary>Quality-filter settings.</summary>
public sealed class FilterConfig
{
    public int JudgeThreshold { get; set; } = 3;
    public int PerSkillCap { get; set; } = 2000;

    public FilterOptions ToOptions(bool useJudge = true) => new(JudgeThreshold, PerSkillCap, useJudge);
}

/// <summary>Support pool for retrieval.</summary>
public sealed class PoolConfig
{
    public string Profile { get; set; } = Profiles.BalancedName;
    public int Count { get; set; } = 100_000;
    public long Seed { get; set; } = 303;
    public double K1 { get; set; } = 1.2;
    public double B { get; set; } = 0.75;
}

/// <summary>A campaign file (YAML, snake_case keys). Unknown keys and bad values are errors that name the key.</summary>
public sealed class CampaignConfig
{
    public string Name { get; set; } = "campaign";
    public long Seed { get; set; } = 7;
    public int Threads { get; set; }
    public int Iterations { get; set; } = 2;
    /// <summary>synthesise | retrieve</summary>
    public string Prescription { get; set; } = "synthesise";
    public bool Diagnose { get; set; } = true;
    /// <summary>Share of an answer-pinning skill's prescribed samples given to its answer siblings (<see cref="DemandPlanner.WithContrast"/>).</summary>
    public double Contrast { get; set; } = DemandPlanner.DefaultContrast;
    public StudentConfig Student { get; set; } = new();
    public SplitConfig Validation { get; set; } = new() { Count = 1500, Seed = 101 };
    /// <summary>
    /// The held-out test split. 20,000 balanced samples: its smallest skills have about 64 questions (3,000 gave 7), so a
    /// per-skill change of 2 points, the loop's forgetting bound, is no longer below one question.
    /// </summary>
    public SplitConfig Test { get; set; } = new() { Count = 20_000, Seed = 2 };
    public BudgetConfig Budget { get; set; } = new();
    public LocateConfig Locate { get; set; } = new();
    public TeacherConfig Teacher { get; set; } = new();
    public FilterConfig Filter { get; set; } = new();
    public PoolConfig Pool { get; set; } = new();

    public static readonly string[] Locators = ["answer-switch", "random", "prompt-per-step", "pseudo-rationale"];
    public static readonly string[] PrescriptionKinds = ["synthesise", "retrieve"];

    public FineTuneOptions FineTune => new(Budget.TrainSteps, (float)Budget.LearningRate, Budget.Replay, Distill: Budget.Distill, FreezeNorm: Budget.FreezeNorm == true, KeepStart: Budget.KeepStart ?? 0);

    /// <summary>Reads and validates a campaign file; errors name the file, the line and the key.</summary>
    public static CampaignConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Campaign file '{path}' does not exist; see campaigns/demo.yaml for an example.", path);
        return Parse(File.ReadAllText(path), path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <param name="profileDirectory">
    /// Where relative profile-file paths (student.base.profile, validation/test.profile, pool.profile) are found: the campaign
    /// file's folder for <see cref="Load"/>, the current directory when null. They are made absolute here, so later stages
    /// read the same file wherever they run.
    /// </param>
    public static CampaignConfig Parse(string yaml, string source, string? profileDirectory = null)
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();
        CampaignConfig? config;
        try
        {
            config = deserializer.Deserialize<CampaignConfig?>(yaml);
        }
        catch (YamlException e)
        {
            string message = (e.InnerException ?? e).Message;
            throw new CampaignConfigException($"{source}: line {e.Start.Line}, column {e.Start.Column}: {Clean(message)}");
        }
        config ??= new CampaignConfig();
        string folder = profileDirectory ?? Directory.GetCurrentDirectory();
        foreach (var split in new[] { config.Student?.Base, config.Validation, config.Test })
        {
            if (split is not null && ProfileFile.IsPath(split.Profile ?? "")) split.Profile = Path.GetFullPath(Path.Combine(folder, split.Profile!));
        }
        if (config.Pool is not null && ProfileFile.IsPath(config.Pool.Profile ?? "")) config.Pool.Profile = Path.GetFullPath(Path.Combine(folder, config.Pool.Profile!));
        var problems = config.Problems();
        if (problems.Count > 0) throw new CampaignConfigException($"{source}: " + string.Join("; ", problems));
        return config;
    }

    /// <summary>Every invalid value, each naming its key.</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))) p.Add($"name '{Name}' must be letters, digits, '-', '_' or '.'");
        if (Threads < 0) p.Add($"threads must be 0 (all cores) or more (got {Threads})");
        if (Iterations is < 1 or > 20) p.Add($"iterations must be 1..20 (got {Iterations})");
        if (!(Contrast is >= 0 and <= 0.9)) p.Add($"contrast must be 0..0.9, the share of an answer-pinning skill's samples given to its other answers (got {Contrast.ToString(CultureInfo.InvariantCulture)})");
        if (!PrescriptionKinds.Contains(Prescription)) p.Add($"prescription '{Prescription}' must be one of {string.Join(", ", PrescriptionKinds)}");
        Split("student.base", Student.Base, p);
        Split("validation", Validation, p);
        Split("test", Test, p);
        if (Student.Checkpoint is null && Student.BaseSteps < 1) p.Add($"student.base_steps must be at least 1 (got {Student.BaseSteps})");
        if (Budget.Failures < 1) p.Add($"budget.failures must be at least 1 (got {Budget.Failures})");
        if (Budget.Samples < 1) p.Add($"budget.samples must be at least 1 (got {Budget.Samples})");
        try { FineTune.Validate(); } catch (ArgumentException e) { p.Add("budget." + e.Message); }
        if (!Locators.Contains(Locate.Method)) p.Add($"locate.method '{Locate.Method}' must be one of {string.Join(", ", Locators)}");
        if (Locate.Bias is <= 0 or >= 1) p.Add($"locate.bias must be between 0 and 1 exclusive (got {Locate.Bias.ToString(CultureInfo.InvariantCulture)})");
        if (Locate.Delta is < 0 or >= 1) p.Add($"locate.delta must be in [0, 1) (got {Locate.Delta.ToString(CultureInfo.InvariantCulture)})");
        if (Locate.Lambda < 1) p.Add($"locate.lambda must be at least 1 (got {Locate.Lambda})");
        try { Teacher.ToOptions().Validate(); } catch (ArgumentException e) { p.Add(e.Message.TrimEnd('.')); }
        try { Filter.ToOptions().Validate(); } catch (ArgumentException e) { p.Add(e.Message.TrimEnd('.')); }
        if (Prescription == "retrieve")
        {
            if (Pool.Count < 1) p.Add($"pool.count must be at least 1 (got {Pool.Count})");
            ProfileProblem("pool.profile", Pool.Profile, p);
            if (Pool.K1 < 0 || Pool.B is < 0 or > 1) p.Add("pool.k1 must be >= 0 and pool.b in [0, 1]");
        }
        return p;
    }

    private static void Split(string key, SplitConfig split, List<string> p)
    {
        if (split is null) { p.Add($"{key} is missing"); return; }
        ProfileProblem($"{key}.profile", split.Profile, p);
        if (split.Count is < 1 or > 1_000_000) p.Add($"{key}.count must be 1..1000000 (got {split.Count})");
    }

    /// <summary>A profile is a built-in name or a readable, valid profile file; the problem names the key and the file's own error.</summary>
    private static void ProfileProblem(string key, string? profile, List<string> p)
    {
        if (string.IsNullOrWhiteSpace(profile)) { p.Add($"{key} is empty: name a built-in profile ({string.Join(", ", Profiles.Names)}) or a profile file"); return; }
        if (!ProfileFile.IsPath(profile)) return;
        if (!File.Exists(profile))
        {
            p.Add($"{key} '{profile}' is neither a built-in profile ({string.Join(", ", Profiles.Names)}) nor an existing profile file");
            return;
        }
        try { _ = ProfileFile.Read(profile); }
        catch (ProfileFileException e) { p.Add($"{key}: {e.Message.TrimEnd('.')}"); }
    }

    private static string Clean(string message) => message.Replace("Property '", "unknown key '", StringComparison.Ordinal).Replace(" not found on type 'FailureSynth.Loop.Campaigns.", " (in ", StringComparison.Ordinal).TrimEnd('.');
}

/// <summary>A campaign file that cannot be used; the message names the file and the key.</summary>
public sealed class CampaignConfigException(string message) : Exception(message);
