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

    /// <summary>embedded (TinyVLM in-process, the default; stored as null so older configs keep their JSON) or openai (a served vision model answers the evaluate stage).</summary>
    public string? Backend { get; set; }
    public string? Endpoint { get; set; }
    public string? Model { get; set; }
    public string? ApiKeyEnv { get; set; }
    public double? TimeoutS { get; set; }
    public int? MaxConcurrency { get; set; }

    /// <summary>The remote endpoint of the student, or null when the embedded student answers.</summary>
    public ModelEndpoint? Remote() => ModelEndpoint.From("student", Backend, Endpoint, Model, ApiKeyEnv, TimeoutS, MaxConcurrency);

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

/// <summary>
/// Who fine-tunes the student: the embedded TinyVLM trainer (default), or a training command the user configures
/// (<c>trainer.backend: command</c>, docs/trainer-command.md). Absent (null) unless a campaign names it, so older configs keep their JSON.
/// </summary>
public sealed class TrainerConfig
{
    /// <summary>embedded (TinyVLM in-process) or command (<see cref="Command"/> as a separate process).</summary>
    public string? Backend { get; set; }
    /// <summary>The training command as an argv list (run without a shell); <c>{placeholders}</c> are filled per iteration (<see cref="Stages.CommandTrainer.Placeholders"/>).</summary>
    public List<string>? Command { get; set; }
    /// <summary>Seconds the command may run per iteration; left out: 3600.</summary>
    public double? TimeoutS { get; set; }
    /// <summary>The checkpoint the command writes, relative to its output folder; left out: model.safetensors.</summary>
    public string? Checkpoint { get; set; }
    /// <summary>LLaMA-Factory YAML: model_name_or_path; left out: the iteration's starting checkpoint.</summary>
    public string? Model { get; set; }
    /// <summary>LLaMA-Factory YAML: template; left out: qwen2_vl.</summary>
    public string? Template { get; set; }
    /// <summary>LLaMA-Factory YAML: finetuning_type (lora, full or freeze); left out: lora.</summary>
    public string? FinetuningType { get; set; }

    public const double DefaultTimeoutS = 3600;
    public const string DefaultCheckpoint = "model.safetensors";
    public const string DefaultTemplate = "qwen2_vl";
    public const string DefaultFinetuningType = "lora";
    public static readonly string[] Backends = ["embedded", "command"];
    public static readonly string[] FinetuningTypes = ["lora", "full", "freeze"];

    /// <summary>Whether a separate training command fine-tunes the student.</summary>
    public bool IsCommand => Backend == "command";
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

    /// <summary>embedded (the default; stored as null so older configs keep their JSON) or semantic-kernel (prompt functions sent to an OpenAI-compatible chat endpoint).</summary>
    public string? Backend { get; set; }
    public string? Endpoint { get; set; }
    public string? Model { get; set; }
    public string? ApiKeyEnv { get; set; }
    public double? TimeoutS { get; set; }
    public int? MaxConcurrency { get; set; }

    public EmbeddedTeacherOptions ToOptions() => new(Seed, Trust, ProposalNoise, PriorSamples);

    /// <summary>The remote endpoint of the teacher, or null when the embedded teacher answers.</summary>
    public ModelEndpoint? Remote() => ModelEndpoint.From("teacher", Backend, Endpoint, Model, ApiKeyEnv, TimeoutS, MaxConcurrency);
}

/// <summary>Image synthesis: the ShapesWorld rasteriser (default) or an OpenAI-compatible /v1/images/generations endpoint for free-form image descriptions.</summary>
public sealed class ImagesConfig
{
    public string? Backend { get; set; }
    public string? Endpoint { get; set; }
    public string? Model { get; set; }
    public string? ApiKeyEnv { get; set; }
    public double? TimeoutS { get; set; }
    public int? MaxConcurrency { get; set; }

    /// <summary>The image endpoint, or null when the rasteriser renders every proposal.</summary>
    public ModelEndpoint? Remote() => ModelEndpoint.From("images", Backend, Endpoint, Model, ApiKeyEnv, TimeoutS, MaxConcurrency);
}

/// <summary>Quality-filter settings.</summary>
public sealed class FilterConfig
{
    public int JudgeThreshold { get; set; } = 3;
    public int PerSkillCap { get; set; } = 2000;

    public FilterOptions ToOptions(bool useJudge = true) => new(JudgeThreshold, PerSkillCap, useJudge);
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
    /// <summary>Absent (null) unless a campaign names a trainer, so older configs keep their JSON.</summary>
    public TrainerConfig? Trainer { get; set; }
    public LocateConfig Locate { get; set; } = new();
    public TeacherConfig Teacher { get; set; } = new();
    public FilterConfig Filter { get; set; } = new();
    public PoolConfig Pool { get; set; } = new();
    /// <summary>Absent (null) unless a campaign names an image endpoint, so older configs keep their JSON.</summary>
    public ImagesConfig? Images { get; set; }

    public static readonly string[] Locators = ["answer-switch", "random", "prompt-per-step", "pseudo-rationale"];
    public static readonly string[] PrescriptionKinds = ["synthesise", "retrieve"];

    public FineTuneOptions FineTune => new(Budget.TrainSteps, (float)Budget.LearningRate, Budget.Replay, Distill: Budget.Distill, FreezeNorm: Budget.FreezeNorm == true, KeepStart: Budget.KeepStart ?? 0);

    /// <summary>Reads and validates a campaign file; errors name the file, the line and the key's YAML path.</summary>
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
    /// <param name="profileFiles">
    /// False for a campaign from a caller who is not this machine's user (the campaign API): only built-in profiles are
    /// accepted, and no file the campaign names is read.
    /// </param>
    public static CampaignConfig Parse(string yaml, string source, string? profileDirectory = null, bool profileFiles = true)
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();
        CampaignConfig? config;
        try
        {
            // Shape first (unknown keys, wrong types), so every such problem is named by its YAML path at once. It reads
            // the document with the same library, so the same malformed input can fail here: inside the try, below.
            var shape = CampaignConfigKeys.Check(yaml);
            if (shape.Count > 0) throw new CampaignConfigException($"{source}: " + string.Join("; ", shape));
            config = deserializer.Deserialize<CampaignConfig?>(yaml);
        }
        catch (YamlException e)
        {
            string message = (e.InnerException ?? e).Message;
            throw new CampaignConfigException($"{source}: line {e.Start.Line}, column {e.Start.Column}: {Clean(message)}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet 16 lets these out of its scanner and parser on some malformed documents (fuzzing found
            // "...\nb" and "!![", docs/security.md): they are bad input, not a failure of ours.
            throw new CampaignConfigException($"{source}: not valid YAML ({e.Message.Replace(" (Parameter 'value')", "", StringComparison.Ordinal).TrimEnd('.')}); see campaigns/demo.yaml for the format");
        }
        config ??= new CampaignConfig();
        config.allowProfileFiles = profileFiles;
        if (profileFiles)
        {
            string folder = profileDirectory ?? Directory.GetCurrentDirectory();
            // A control character (NUL included) makes no path: left as written, ProfileProblem names it.
            static bool Resolvable(string? profile) => !string.IsNullOrWhiteSpace(profile) && ProfileFile.IsPath(profile) && !profile.Any(char.IsControl);
            foreach (var (key, split) in new[] { ("student.base.profile", config.Student?.Base), ("validation.profile", config.Validation), ("test.profile", config.Test) })
            {
                if (split is null || !Resolvable(split.Profile)) continue;
                config.writtenProfiles[key] = split.Profile;
                split.Profile = Path.GetFullPath(Path.Combine(folder, split.Profile));
            }
            if (config.Pool is not null && Resolvable(config.Pool.Profile))
            {
                config.writtenProfiles["pool.profile"] = config.Pool.Profile;
                config.Pool.Profile = Path.GetFullPath(Path.Combine(folder, config.Pool.Profile));
            }
        }
        var problems = config.Problems();
        if (problems.Count > 0) throw new CampaignConfigException($"{source}: " + string.Join("; ", problems));
        return config;
    }

    /// <summary>Every invalid value, each naming its key; values over <see cref="CampaignLimits.Absolute"/> included.</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        // A section written as "budget: ~" arrives as null: name it instead of failing on it.
        var missing = new (string Key, object? Value)[] { ("student", Student), ("budget", Budget), ("locate", Locate), ("teacher", Teacher), ("filter", Filter), ("pool", Pool), ("name", Name), ("prescription", Prescription) }
            .Where(s => s.Value is null).Select(s => $"{s.Key} is missing (empty or null); leave the key out to use the default").ToList();
        if (missing.Count > 0) return missing;
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100 || Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))) p.Add($"name '{Shorten(Name)}' must be 1 to 100 letters, digits, '-', '_' or '.'");
        if (Threads < 0) p.Add($"threads must be 0 (all cores) or more (got {Threads})");
        if (Iterations is < 1 or > 20) p.Add($"iterations must be 1..20 (got {Iterations})");
        if (!(Contrast is >= 0 and <= 0.9)) p.Add($"contrast must be 0..0.9, the share of an answer-pinning skill's samples given to its other answers (got {Contrast.ToString(CultureInfo.InvariantCulture)})");
        if (!PrescriptionKinds.Contains(Prescription)) p.Add($"prescription '{Shorten(Prescription)}' must be one of {string.Join(", ", PrescriptionKinds)}");
        Split("student.base", Student.Base, p);
        Split("validation", Validation, p);
        Split("test", Test, p);
        if (Student.Checkpoint is null && Student.BaseSteps < 1) p.Add($"student.base_steps must be at least 1 (got {Student.BaseSteps})");
        if (string.IsNullOrWhiteSpace(Student.Cache)) p.Add("student.cache must name a folder (default out/cache)");
        if (Student.Checkpoint is { Length: 0 }) p.Add("student.checkpoint is empty: name a checkpoint file or leave the key out");
        if (Budget.Failures < 1) p.Add($"budget.failures must be at least 1 (got {Budget.Failures})");
        if (Budget.Samples < 1) p.Add($"budget.samples must be at least 1 (got {Budget.Samples})");
        try { FineTune.Validate(); } catch (ArgumentException e) { p.Add("budget." + e.Message); }
        TrainerProblems(p);
        if (!Locators.Contains(Locate.Method)) p.Add($"locate.method '{Shorten(Locate.Method)}' must be one of {string.Join(", ", Locators)}");
        if (!(Locate.Bias is > 0 and < 1)) p.Add($"locate.bias must be between 0 and 1 exclusive (got {Locate.Bias.ToString(CultureInfo.InvariantCulture)})");
        if (!(Locate.Delta is >= 0 and < 1)) p.Add($"locate.delta must be in [0, 1) (got {Locate.Delta.ToString(CultureInfo.InvariantCulture)})");
        if (Locate.Lambda < 1) p.Add($"locate.lambda must be at least 1 (got {Locate.Lambda})");
        try { Teacher.ToOptions().Validate(); } catch (ArgumentException e) { p.Add(e.Message.TrimEnd('.')); }
        try { Filter.ToOptions().Validate(); } catch (ArgumentException e) { p.Add(e.Message.TrimEnd('.')); }
        ModelEndpoint.Check("teacher", ["embedded", "semantic-kernel"], Teacher.Backend, Teacher.Endpoint, Teacher.Model, Teacher.ApiKeyEnv, Teacher.TimeoutS, Teacher.MaxConcurrency, p);
        ModelEndpoint.Check("student", ["embedded", "openai"], Student.Backend, Student.Endpoint, Student.Model, Student.ApiKeyEnv, Student.TimeoutS, Student.MaxConcurrency, p);
        if (Images is { } images)
        {
            ModelEndpoint.Check("images", ["rasterizer", "openai"], images.Backend, images.Endpoint, images.Model, images.ApiKeyEnv, images.TimeoutS, images.MaxConcurrency, p);
            // Described samples have no scene to re-execute: their answer check and judge are the teacher's reading of the
            // picture, which the embedded teacher cannot do (it proposes scene specs only and does not read pictures).
            if (images.Backend == "openai" && Teacher.Backend != "semantic-kernel")
                p.Add("images.backend openai needs teacher.backend semantic-kernel: the teacher writes the image descriptions and checks the pictures (the embedded teacher proposes scene specs only)");
            if (images.Backend == "openai" && Prescription == "retrieve")
                p.Add("images.backend openai draws synthesised proposals; prescription retrieve uses none: remove the images section");
        }
        // A served student is a fixed model: the campaign fine-tunes a local copy, which the endpoint never serves,
        // so a second iteration would evaluate the unchanged remote model while training its own.
        if (Student.Backend == "openai" && Iterations != 1)
            p.Add($"student.backend openai evaluates the served model, which the campaign cannot fine-tune: set iterations: 1 (got {Iterations})");
        if (Student.Backend == "openai" && Student.Checkpoint is null)
            p.Add("student.backend openai needs student.checkpoint: the local copy of the served weights that the train and measure stages start from");
        if (Prescription == "retrieve")
        {
            if (Pool.Count < 1) p.Add($"pool.count must be at least 1 (got {Pool.Count})");
            ProfileProblem("pool.profile", Pool.Profile, p);
            if (!(Pool.K1 >= 0) || !(Pool.B is >= 0 and <= 1)) p.Add("pool.k1 must be >= 0 and pool.b in [0, 1]");
        }
        if (p.Count == 0) p.AddRange(CampaignLimits.Absolute.Problems(this));
        return p;
    }

    /// <summary>The trainer section's problems: backend, the command's argv and placeholders, timeout, checkpoint path, YAML settings.</summary>
    private void TrainerProblems(List<string> p)
    {
        if (Trainer is not { } t) return;
        if (t.Backend is not null && !TrainerConfig.Backends.Contains(t.Backend))
            p.Add($"trainer.backend '{Shorten(t.Backend)}' must be one of {string.Join(", ", TrainerConfig.Backends)}");
        if (!t.IsCommand)
        {
            // Settings of a command that never runs would be silently ignored: name them instead.
            var unused = new (string Key, object? Value)[] { ("trainer.command", t.Command), ("trainer.timeout_s", t.TimeoutS), ("trainer.checkpoint", t.Checkpoint),
                ("trainer.model", t.Model), ("trainer.template", t.Template), ("trainer.finetuning_type", t.FinetuningType) }.Where(x => x.Value is not null).Select(x => x.Key).ToList();
            if (unused.Count > 0 && (t.Backend is null || t.Backend == "embedded"))
                p.Add($"{string.Join(", ", unused)} {(unused.Count == 1 ? "is" : "are")} used only with trainer.backend: command; set it or remove {(unused.Count == 1 ? "the key" : "them")}");
            return;
        }
        if (t.Command is null || t.Command.Count == 0)
            p.Add("trainer.command must be a non-empty list: the program and its arguments, e.g. [llamafactory-cli, train, \"{config_yaml}\"] (no shell runs it)");
        else
        {
            if (string.IsNullOrWhiteSpace(t.Command[0])) p.Add("trainer.command[0] is empty: it names the program to run");
            for (int i = 0; i < t.Command.Count; i++)
            {
                string? argument = t.Command[i];
                if (argument is null) { p.Add($"trainer.command[{i}] is null; write \"\" for an empty argument"); continue; }
                if (argument.Contains('\0', StringComparison.Ordinal)) { p.Add($"trainer.command[{i}] contains a NUL character"); continue; }
                foreach (string unknown in Stages.CommandTrainer.UnknownPlaceholders(argument).Distinct(StringComparer.Ordinal))
                    p.Add($"trainer.command[{i}] '{Shorten(argument)}' has the unknown placeholder {{{unknown}}}; known: {string.Join(", ", Stages.CommandTrainer.Placeholders.Select(x => "{" + x + "}"))}");
            }
        }
        if (t.TimeoutS is { } timeout && !(timeout is > 0 and <= 7 * 24 * 3600))
            p.Add($"trainer.timeout_s must be in (0, 604800] seconds (got {timeout.ToString(CultureInfo.InvariantCulture)})");
        if (t.Checkpoint is { } checkpoint)
        {
            if (checkpoint.Length == 0 || checkpoint.Any(char.IsControl)) p.Add("trainer.checkpoint must name a file relative to {output_dir} (default model.safetensors)");
            else if (Path.IsPathRooted(checkpoint) || checkpoint.Split('/', '\\').Any(segment => segment == ".."))
                p.Add($"trainer.checkpoint '{Shorten(checkpoint)}' must be a path inside the command's output folder ({{output_dir}}), without '..' or a leading '/'");
        }
        if (t.Model is { Length: 0 }) p.Add("trainer.model is empty: name the model LLaMA-Factory starts from, or leave the key out (the iteration's checkpoint)");
        if (t.Template is { } template && (template.Length == 0 || template.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))))
            p.Add($"trainer.template '{Shorten(template)}' must be a LLaMA-Factory template name (letters, digits, '_', '-', '.'), e.g. qwen2_vl");
        if (t.FinetuningType is { } type && !TrainerConfig.FinetuningTypes.Contains(type))
            p.Add($"trainer.finetuning_type '{Shorten(type)}' must be one of {string.Join(", ", TrainerConfig.FinetuningTypes)}");
        // The embedded trainer's guards against forgetting are not handed to a command: refuse them rather than drop them silently.
        if (Budget.Distill > 0) p.Add($"budget.distill {Budget.Distill.ToString(CultureInfo.InvariantCulture)} is applied by the embedded trainer only; set budget.distill: 0 with trainer.backend: command");
        if (Budget.KeepStart is > 0) p.Add("budget.keep_start is applied by the embedded trainer only; remove it with trainer.backend: command");
        if (Budget.FreezeNorm == true) p.Add("budget.freeze_norm is applied by the embedded trainer only; remove it with trainer.backend: command");
        if (Student.Backend == "openai") p.Add("trainer.backend command with student.backend openai: the served model is not reloaded after training yet; use the embedded student");
    }

    /// <summary>
    /// For a campaign from a caller who is not this machine's user (the campaign API): <c>student.checkpoint</c> and
    /// <c>student.cache</c> must be relative paths without a <c>..</c> segment that stay inside <paramref name="root"/>
    /// once resolved. The CLI does not apply this: its user may name any file they can read.
    /// </summary>
    public IReadOnlyList<string> ConfinedPathProblems(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        string full = Path.GetFullPath(root);
        var p = new List<string>();
        void Check(string key, string? path)
        {
            if (path is null) return;
            if (path.Any(char.IsControl)) p.Add($"{key} contains a control character; use a path relative to the data root");
            else if (Path.IsPathRooted(path) || path.StartsWith('~')) p.Add($"{key} '{Shorten(path)}' is an absolute path; campaigns sent to the server may only name paths relative to its data root");
            else if (path.Split('/', '\\').Any(segment => segment == "..")) p.Add($"{key} '{Shorten(path)}' contains '..'; campaigns sent to the server may only name paths inside its data root");
            else if (!Path.GetFullPath(Path.Combine(full, path)).StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                p.Add($"{key} '{Shorten(path)}' resolves outside the data root");
        }
        if (Student is null) return p;
        Check("student.checkpoint", Student.Checkpoint);
        Check("student.cache", Student.Cache);
        return p;
    }

    // Set by Parse: whether profile keys may name files (false for the campaign API). A field, so neither YAML nor JSON sees it.
    private bool allowProfileFiles = true;

    // Profile paths as the campaign file wrote them, by key, before Parse made them absolute: problems quote what the user wrote.
    private readonly Dictionary<string, string> writtenProfiles = new(StringComparer.Ordinal);

    // Echoing a caller's value back is useful, but not 60 KiB of it.
    private static string Shorten(string? value) => value is null ? "" : value.Length <= 80 ? value : value[..80] + "...";

    private void Split(string key, SplitConfig split, List<string> p)
    {
        if (split is null) { p.Add($"{key} is missing"); return; }
        ProfileProblem($"{key}.profile", split.Profile, p);
        if (split.Count is < 1 or > 1_000_000) p.Add($"{key}.count must be 1..1000000 (got {split.Count})");
    }

    /// <summary>A profile is a built-in name or a readable, valid profile file; the problem names the key and the file's own error.</summary>
    private void ProfileProblem(string key, string? profile, List<string> p)
    {
        if (string.IsNullOrWhiteSpace(profile)) { p.Add($"{key} is empty: name a built-in profile ({string.Join(", ", Profiles.Names)}) or a profile file"); return; }
        if (!ProfileFile.IsPath(profile)) return;
        // A caller who is not this machine's user (the campaign API) may not make the server read its files.
        if (!allowProfileFiles)
        {
            p.Add($"{key} '{Shorten(profile)}' is not a built-in profile ({string.Join(", ", Profiles.Names)}); campaigns sent to the server may not name profile files");
            return;
        }
        string written = writtenProfiles.GetValueOrDefault(key, profile);
        if (profile.Any(char.IsControl) || !File.Exists(profile))
        {
            p.Add($"{key} '{Shorten(written)}' is neither a built-in profile ({string.Join(", ", Profiles.Names)}) nor an existing profile file");
            return;
        }
        try { _ = ProfileFile.Read(profile); }
        catch (ProfileFileException e) { p.Add($"{key}: {e.Message.TrimEnd('.')}"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { p.Add($"{key} '{Shorten(written)}' cannot be read: {e.Message.TrimEnd('.')}"); }
    }

    // What the deserialiser says when the shape check let something through: without our namespace, quotes balanced.
    private static string Clean(string message) => message.Replace("FailureSynth.Loop.Campaigns.", "", StringComparison.Ordinal).TrimEnd('.');
}
