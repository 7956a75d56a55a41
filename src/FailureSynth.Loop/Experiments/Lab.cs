using System.Globalization;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Locate;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Student;
using FailureSynth.Loop.Teacher;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Evaluation;
using FailureSynth.TinyVlm.Training;
using FailureSynth.World;
using FailureSynth.World.Skills;

namespace FailureSynth.Loop.Experiments;

/// <summary>The result of one fine-tuning arm on one seed: overall and per-skill test accuracy.</summary>
/// <param name="Guard">What the forgetting guard found (<c>budget.guard</c>); null, and left out of the run's JSON, without it.</param>
public sealed record ArmRun(string Arm, int N, int Seed, double Accuracy, IReadOnlyDictionary<string, double> PerSkill, int TrainingSamples, double Seconds,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] GuardReport? Guard = null);

/// <summary>
/// What every experiment shares: the campaign config (base recipe, test split, teacher, budgets), the base
/// student, its training data for replay, the rendered test split and the base evaluation. Each arm run is
/// stored under OUT/runs/ so an interrupted experiment resumes without redoing finished runs.
/// </summary>
public sealed class Lab
{
    private Lab(CampaignConfig config, string output, ComputeContext context, byte[] checkpoint, BaseInfo baseInfo,
        IReadOnlyList<WorldSample> original, IReadOnlyList<StudentExample> test, EmbeddedTeacher teacher, EvaluationReport baseReport)
    {
        Config = config;
        Output = output;
        Context = context;
        BaseCheckpoint = checkpoint;
        BaseInfo = baseInfo;
        Original = original;
        Test = test;
        Teacher = teacher;
        BaseReport = baseReport;
    }

    public CampaignConfig Config { get; }
    public string Output { get; }
    public ComputeContext Context { get; }
    public byte[] BaseCheckpoint { get; }
    public BaseInfo BaseInfo { get; }
    public IReadOnlyList<WorldSample> Original { get; }
    public IReadOnlyList<StudentExample> Test { get; }
    public EmbeddedTeacher Teacher { get; }
    public EvaluationReport BaseReport { get; }
    public IProgress<CampaignProgress>? Progress { get; private set; }

    /// <summary>Folder of cached arm runs (under the campaign cache folder).</summary>
    public string RunCache { get; private set; } = "";

    /// <summary>The folder relative paths of the config (student.checkpoint, student.cache) are resolved against.</summary>
    public string ConfigDirectory { get; private set; } = "";

    public event Action<string>? Note;

    public int ImageSize => TinyVlmStudent.FromBytes(BaseCheckpoint, Context, "base").Model.Config.ImageSize;

    /// <summary>
    /// An experiment folder keeps its base student and base evaluation to resume; they are reused only when the
    /// config's student and test sections (and the student format and training defaults of this build) are the ones
    /// they were made with. Otherwise they are deleted, with a note, and made again: a stale base would silently
    /// change every figure. (Arm runs are cached separately, keyed by the full recipe.)
    /// </summary>
    private static void ForgetBaseOfAnotherRecipe(CampaignConfig config, string output, Action<string>? note)
    {
        string recipe = System.Text.Json.JsonSerializer.Serialize(new
        {
            format = TinyVlmStudent.FormatName,
            learning_rate = TrainingOptions.DefaultLearningRate,
            trainer = StudentTrainer.RecipeVersion,
            threads = config.Threads,
            student = config.Student,
            test = config.Test,
        }, CampaignJson.Options);
        string recipePath = Path.Combine(output, "base-recipe.json");
        if (File.Exists(recipePath) && File.ReadAllText(recipePath).TrimEnd() == recipe.TrimEnd()) return;
        string[] made = [.. new[] { "base.safetensors", "base.json", "base-eval.json" }.Select(f => Path.Combine(output, f)).Where(File.Exists)];
        if (made.Length > 0)
        {
            note?.Invoke($"{output}: the base student there was made from another student/test recipe; it is made again.");
            foreach (string f in made) File.Delete(f);
        }
        File.WriteAllText(recipePath, recipe + "\n");
    }

    public static async Task<Lab> OpenAsync(CampaignConfig config, string output, string configDirectory, IProgress<CampaignProgress>? progress, Action<string>? note, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(output);
        int threads = config.Threads == 0 ? Environment.ProcessorCount : config.Threads;
        var context = TinyVlm.StudentCompute.CreateContext(threads);
        ForgetBaseOfAnotherRecipe(config, output, note);
        var runner = new CampaignRunner(config, output, configDirectory);
        if (note is not null) runner.Note += note;
        var original = CampaignRunner.Generate(config.Student.Base);
        var (checkpoint, info) = await runner.BaseCheckpointAsync(context, original, progress, cancellationToken).ConfigureAwait(false);
        var test = StudentTraining.Examples(CampaignRunner.Generate(config.Test));
        string basePath = Path.Combine(output, "base-eval.json");
        EvaluationReport baseReport;
        if (File.Exists(basePath)) baseReport = CampaignJson.Read<EvaluationReport>(basePath);
        else
        {
            var student = TinyVlmStudent.FromBytes(checkpoint, context, "base");
            baseReport = StudentTraining.Evaluate(student, test, "base", new SyncProgress<int>(n => progress?.Report(new CampaignProgress(0, "base evaluation", n, test.Count)))) with { Answers = [] };
            CampaignJson.Write(basePath, baseReport);
        }
        var lab = new Lab(config, output, context, checkpoint, info, original, test, new EmbeddedTeacher(config.Teacher.ToOptions()), baseReport) { Progress = progress, ConfigDirectory = configDirectory, RunCache = Path.Combine(StudentConfig.Resolve(configDirectory, config.Student.Cache), "runs") };
        if (note is not null) lab.Note += note;
        return lab;
    }

    /// <summary>Where <c>budget.guard</c> measures its probes (the same for every arm and seed); null with the guard off.</summary>
    private IReadOnlyList<WorldSample>? GuardProbe => _guardProbe ??= CampaignRunner.GuardProbe(Config);

    private IReadOnlyList<WorldSample>? _guardProbe;

    /// <summary>Validation split of a seed: the campaign's validation profile and size, a seed-specific stream.</summary>
    public IReadOnlyList<WorldSample> Validation(int seed) =>
        CampaignRunner.Generate(new SplitConfig { Profile = Config.Validation.Profile, Count = Config.Validation.Count, Seed = Config.Validation.Seed + 1000L * seed });

    /// <summary>Collects the base student's failures on the seed's validation split.</summary>
    public async Task<IReadOnlyList<CollectedFailure>> FailuresAsync(int seed, CancellationToken cancellationToken)
    {
        var student = TinyVlmStudent.FromBytes(BaseCheckpoint, Context, "base");
        var (failures, _) = await FailureCollector.CollectAsync(new EmbeddedStudent(student, StudentTraining.Version(BaseCheckpoint)), Validation(seed),
            $"lab/{seed}", ImageSize, null, cancellationToken).ConfigureAwait(false);
        return failures;
    }

    public IStepLocator Locator(string method, int seed) =>
        Locators.Create(method, Teacher, Config.Locate.Bias, Config.Locate.Delta, Config.Locate.Lambda, seed);

    /// <summary>Locates and diagnoses (at most budget.failures of) the failures.</summary>
    public async Task<IReadOnlyList<DiagnosedFailure>> DiagnoseAsync(IReadOnlyList<CollectedFailure> failures, IStepLocator locator, int seed, CancellationToken cancellationToken)
    {
        var chosen = failures.Select(f => f.Failure)
            .OrderBy(f => StableHash.Hex("lab-analysed", seed.ToString(CultureInfo.InvariantCulture), f.Id), StringComparer.Ordinal)
            .Take(Config.Budget.Failures).OrderBy(f => f.Id, StringComparer.Ordinal).ToList();
        var result = new List<DiagnosedFailure>(chosen.Count);
        foreach (var f in chosen)
        {
            var step = await locator.LocateAsync(f, cancellationToken).ConfigureAwait(false);
            result.Add(new DiagnosedFailure(f, step, await Teacher.DiagnoseSkillAsync(f, step, cancellationToken).ConfigureAwait(false)));
        }
        return result;
    }

    /// <summary>Synthesises and filters samples for the demands.</summary>
    public async Task<IReadOnlyList<StudentExample>> SynthesiseAsync(IReadOnlyList<SkillDemand> demands, long seed, CancellationToken cancellationToken)
    {
        var synthesizer = new Synthesizer(Teacher, new QualityFilter(Teacher, Config.Filter.ToOptions()));
        var result = await synthesizer.PrescribeAsync(demands, seed, new InMemoryDuplicateRegistry(), null, cancellationToken).ConfigureAwait(false);
        return [.. result.Samples.Select(StudentTraining.Example)];
    }

    /// <summary>The random-synthetic baseline's demands: the budget spread uniformly over every skill of the taxonomy.</summary>
    public static IReadOnlyList<SkillDemand> UniformDemands(int n) => DemandPlanner.Uniform(n);

    /// <summary>The targeted arm's demands: N split by failures, with the config's uniform share (budget.uniform) spread over every skill.</summary>
    public IReadOnlyList<SkillDemand> TargetedDemands(IReadOnlyList<DiagnosedFailure> diagnosed, int n) =>
        DemandPlanner.PlanWithUniform(diagnosed, n, Config.Budget.Uniform ?? 0, contrast: Config.Contrast);

    /// <summary>Fresh samples of the base training distribution (seed 000's "equal amount of real data").</summary>
    public IReadOnlyList<StudentExample> Natural(int n, int seed) =>
        StudentTraining.Examples(CampaignRunner.Generate(new SplitConfig { Profile = Config.Student.Base.Profile, Count = n, Seed = 900_000 + seed }));

    private readonly List<ArmRun> _cachedRuns = [];

    /// <summary>The arm runs this lab took from the run cache instead of running them (their recorded seconds are those of the original run).</summary>
    public IReadOnlyList<ArmRun> CachedRuns => _cachedRuns;

    /// <summary>
    /// What an arm run's result depends on, as text for its cache key: the config without the settings that only
    /// name or place things (<c>name</c>, <c>student.cache</c>, <c>student.checkpoint</c>), plus the SHA-256 of the base
    /// student's bytes, which stands for the checkpoint path or the base recipe and also changes when a new build trains
    /// another base, and <see cref="StudentTrainer.RecipeVersion"/>, which changes when a new build fine-tunes differently
    /// from the same base. The same arms under a renamed config, another cache folder or a copied checkpoint share their runs.
    /// </summary>
    public static string RunRecipe(CampaignConfig config, byte[] baseCheckpoint)
    {
        var node = System.Text.Json.JsonSerializer.SerializeToNode(config, CampaignJson.Options)!.AsObject();
        node.Remove("name");
        if (node["student"] is System.Text.Json.Nodes.JsonObject student)
        {
            student.Remove("cache");
            student.Remove("checkpoint");
        }
        // A profile file stands in the key by its content, not its path (built-in names are kept, so older keys hold).
        foreach (var split in new[] { node["student"]?["base"], node["validation"], node["test"], node["pool"] })
        {
            if (split is System.Text.Json.Nodes.JsonObject o && o["profile"]?.GetValue<string>() is { } profile && ProfileFile.IsPath(profile))
                o["profile"] = Profiles.Fingerprint(profile);
        }

        node["base_student_sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(baseCheckpoint));
        node["trainer"] = StudentTrainer.RecipeVersion;
        // The guard's probe set and rules are part of what an arm run trained on; off, the key stays as it was.
        if (config.Budget.Guard is > 0) node["guard_version"] = StudentTraining.GuardVersion;
        node["teacher_model"] = EmbeddedTeacher.ModelVersion;
        return node.ToJsonString(CampaignJson.Options);
    }

    /// <summary>
    /// Fine-tunes the base on <paramref name="data"/> (plus replay) and evaluates it; cached under runs/.
    /// <paramref name="family"/> groups arms that are the same run in several experiments (<c>prescribe</c>: the
    /// targeted and random-synthetic arms of targeted-vs-random and of ablations); it is part of the cache key and
    /// of the fine-tuning seed.
    /// </summary>
    public async Task<ArmRun> RunArmAsync(string family, string arm, int n, int seed, int steps, Func<Task<IReadOnlyList<StudentExample>>> data, CancellationToken cancellationToken)
    {
        // Runs are cached by their full recipe (config + base student + arm + n + seed + steps), so experiments sharing an arm reuse it.
        string recipe = StableHash.Hex(RunRecipe(Config, BaseCheckpoint), family, arm,
            n.ToString(CultureInfo.InvariantCulture), seed.ToString(CultureInfo.InvariantCulture), steps.ToString(CultureInfo.InvariantCulture))[..16];
        string path = Path.Combine(RunCache, $"{arm}-n{n}-s{seed}-{recipe}.json");
        if (File.Exists(path))
        {
            Note?.Invoke($"{arm} N={n} seed {seed}: taken from the run cache ({path}).");
            var cached = CampaignJson.Read<ArmRun>(path);
            _cachedRuns.Add(cached);
            return cached;
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        string label = $"fine-tune {arm} N={n} seed {seed}";
        Progress?.Report(new CampaignProgress(0, label, 0, steps, "preparing data"));
        var examples = await data().ConfigureAwait(false);
        var options = Config.FineTune with { Steps = steps };
        long trainSeed = StableHash.Seed("lab-train", family, n.ToString(CultureInfo.InvariantCulture), seed.ToString(CultureInfo.InvariantCulture));
        var (tuned, guard) = await Task.Run(() =>
        {
            var student = StudentTraining.FineTune(BaseCheckpoint, Context, examples, Original, options, trainSeed,
                new SyncProgress<TrainingProgress>(p => Progress?.Report(new CampaignProgress(0, label, p.Step, p.TotalSteps))), cancellationToken, out var found, GuardProbe);
            return (student, found);
        }, cancellationToken).ConfigureAwait(false);
        var report = StudentTraining.Evaluate(tuned, Test, arm);
        var run = new ArmRun(arm, n, seed, report.OverallAccuracy, report.PerSkill.ToDictionary(kv => kv.Key, kv => kv.Value.Accuracy, StringComparer.Ordinal),
            examples.Count, Math.Round(watch.Elapsed.TotalSeconds, 1), guard);
        if (guard is not null)
            Note?.Invoke($"{label}: the guard's probe fell on {(guard.Falls.Count == 0 ? "no skill" : string.Join(", ", guard.Falls.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Key} ({100 * f.Value:0.0} points, {guard.Replayed.GetValueOrDefault(f.Key)} replayed)"))))}.");
        CampaignJson.Write(path, run);
        Note?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{label}: test accuracy {100 * run.Accuracy:0.0} % (base {100 * BaseReport.OverallAccuracy:0.0} %), {run.Seconds:0} s."));
        return run;
    }
}
