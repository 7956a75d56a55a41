using System.Diagnostics;
using System.Globalization;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Locate;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Student;
using FailureSynth.Loop.Teacher;
using FailureSynth.Loop.Telemetry;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Evaluation;
using FailureSynth.TinyVlm.Training;
using FailureSynth.TinyVlm.Vocabulary;
using FailureSynth.World;
using FailureSynth.World.Rendering;

namespace FailureSynth.Loop.Campaigns;

/// <summary>What a finished campaign produced.</summary>
public sealed record CampaignResult(string OutputDirectory, string DatasetDirectory, string ReportPath, CampaignReport Report);

/// <summary>
/// Runs a campaign in-process: base student (trained or taken from the cache), then for each iteration
/// evaluate -> locate -> diagnose -> prescribe (synthesise or retrieve, through the filter) -> train -> measure.
/// Every stage writes its result to <c>OUT/iter-K/STAGE.json</c> before the next starts; a rerun with the same
/// output folder loads finished stages instead of redoing them, so an interrupted campaign resumes where it
/// stopped. The same config (seed included) gives the same dataset manifest and accuracies.
/// </summary>
public sealed partial class CampaignRunner(CampaignConfig config, string outputDirectory, string? configDirectory = null)
{
    private readonly string _out = Path.GetFullPath(outputDirectory);
    private readonly string _baseDirectory = configDirectory ?? Directory.GetCurrentDirectory();

    /// <summary>Lines about decisions worth telling the user (cache hits, resumed stages).</summary>
    public event Action<string>? Note;

    /// <summary>
    /// Who does the stage work; null: <see cref="InProcessWorkers"/> over the embedded student and teacher.
    /// Given the compute context, the teacher and the locator the config asks for.
    /// </summary>
    public Func<ComputeContext, ITeacher, IStepLocator, ICampaignWorkers>? Workers { get; init; }

    /// <summary>The id the campaign's spans carry (the Trainer's campaign id); null: the config's name.</summary>
    public string? CampaignId { get; init; }

    private string Id => CampaignId ?? config.Name;
    /// <summary>The teacher; null: the embedded teacher with the config's settings. A remote backend (teacher.backend) is built by the caller.</summary>
    public ITeacher? Teacher { get; init; }

    /// <summary>
    /// The student answering the evaluate stage of the in-process workers, given that stage's work; null: the embedded
    /// TinyVLM of the work's checkpoint. Train and measure always run on the local checkpoint.
    /// </summary>
    public Func<EvaluationWork, IStudent>? Student { get; init; }

    /// <summary>
    /// The image endpoint for proposals that carry an image description (<c>images.backend: openai</c>), built by the caller
    /// as the remote teacher is; null: the ShapesWorld rasteriser draws every sample and described proposals are rejected.
    /// </summary>
    public IImageSynth? Images { get; init; }

    public async Task<CampaignResult> RunAsync(IProgress<CampaignProgress>? progress, CancellationToken cancellationToken)
    {
        using var activity = CampaignTelemetry.StartCampaign(Id, config.Name);
        try
        {
            return await RunIterationsAsync(progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    private async Task<CampaignResult> RunIterationsAsync(IProgress<CampaignProgress>? progress, CancellationToken cancellationToken)
    {
        int threads = config.Threads == 0 ? Environment.ProcessorCount : config.Threads;
        var context = StudentCompute.CreateContext(threads);
        Directory.CreateDirectory(_out);
        GuardConfig();
        if (config.Images?.Backend == "openai" && Images is null)
            throw new CampaignConfigException("images.backend openai: this runner was given no image endpoint (failuresynth campaign run builds it from the images section).");
        // The services' pipeline carries checks between processes without pixels; a described sample's image exists only here.
        if (Images is not null && Workers is not null)
            throw new CampaignConfigException("images.backend openai runs in-process only (failuresynth campaign run): the services do not carry generated images between them yet.");

        if (config.IsExternal) return await RunExternalAsync(context, threads, progress, cancellationToken).ConfigureAwait(false);

        var teacher = Teacher ?? new EmbeddedTeacher(config.Teacher.ToOptions());
        var baseSamples = Generate(config.Student.Base);
        var (checkpoint, baseInfo) = await BaseStageAsync(context, baseSamples, progress, cancellationToken).ConfigureAwait(false);
        var validation = Generate(config.Validation);
        var guardProbe = GuardProbe(config);
        var test = StudentTraining.Examples(Generate(config.Test));
        var imageSize = TinyVlmStudent.FromBytes(checkpoint, context, "base").Model.Config.ImageSize;

        var iterations = new List<IterationReport>();
        var duplicates = new InMemoryDuplicateRegistry();
        var allAccepted = new List<(int Iteration, StoredSample Sample)>();
        var allLocated = new Dictionary<string, LocatedStep>(StringComparer.Ordinal);
        EvaluationReport? baseReport = null;
        var locator = CreateLocator(teacher);
        var workers = Workers?.Invoke(context, teacher, locator) ?? new InProcessWorkers(context, teacher, locator, new QualityFilter(teacher, config.Filter.ToOptions()) { Images = Images }) { Student = Student };
        // What each skill gained for the data it got; it steers the next prescription (recomputed from the stage files on resume).
        IReadOnlyDictionary<string, SkillStanding> standings = new Dictionary<string, SkillStanding>(StringComparer.Ordinal);
        for (int k = 1; k <= config.Iterations; k++)
        {
            using var iterationActivity = CampaignTelemetry.StartIteration(Id, config.Name, k);
            string dir = Path.Combine(_out, $"iter-{k}");
            string version = StudentTraining.Version(checkpoint);

            var evaluated = await StageAsync(dir, k, CampaignStages.Evaluate, progress, async report =>
            {
                var result = await workers.EvaluateAsync(new EvaluationWork($"{config.Name}/{config.Seed}/{k}", checkpoint, version, config.Validation, validation, imageSize, threads),
                    report, cancellationToken).ConfigureAwait(false);
                var output = new EvaluateOutput(version, validation.Count, result.Correct, result.Failures);
                CampaignTelemetry.Evaluated(config.Name, k, output);
                return output;
            }).ConfigureAwait(false);

            var analysed = Analysed(evaluated.Failures, k);
            var located = await StageAsync(dir, k, CampaignStages.Locate, progress, async report =>
            {
                var output = new LocateOutput(locator.Name, await workers.LocateAsync(analysed, report, cancellationToken).ConfigureAwait(false));
                CampaignTelemetry.Located(config.Name, k, output);
                return output;
            }).ConfigureAwait(false);

            var steps = located.Located.ToDictionary(l => l.FailureId, l => l.Step, StringComparer.Ordinal);
            foreach (var (id, step) in steps) allLocated[id] = step;
            var diagnosed = await StageAsync(dir, k, CampaignStages.Diagnose, progress, async report =>
                new DiagnoseOutput(await workers.DiagnoseAsync([.. analysed.Select(f => (f, steps[f.Id]))], report, cancellationToken).ConfigureAwait(false))).ConfigureAwait(false);

            var diagnoses = diagnosed.Diagnoses.ToDictionary(d => d.FailureId, d => d.Diagnosis, StringComparer.Ordinal);
            var work = analysed.Select(f => new DiagnosedFailure(f, steps[f.Id], diagnoses[f.Id])).ToList();
            var prescribed = await StageAsync(dir, k, CampaignStages.Prescribe, progress, async report =>
            {
                var output = await PrescribeAsync(teacher, workers, work, k, dir, duplicates, standings, report, cancellationToken).ConfigureAwait(false);
                CampaignTelemetry.Prescribed(config.Name, k, output);
                return output;
            }).ConfigureAwait(false);
            // Replays of later iterations must see this iteration's accepted samples as duplicates too.
            await RegisterAcceptedAsync(duplicates, prescribed.Accepted, imageSize, cancellationToken).ConfigureAwait(false);
            allAccepted.AddRange(prescribed.Accepted.Select(s => (k, s)));

            var trained = await StageAsync(dir, k, CampaignStages.Train, progress, async report =>
            {
                var watch = Stopwatch.StartNew();
                if (config.Trainer is { IsCommand: true } trainer)
                {
                    var commandOptions = config.FineTune with { Steps = TrainSteps(standings, prescribed.Demands) };
                    long commandSeed = StableHash.Seed("train", config.Seed.ToString(CultureInfo.InvariantCulture), k.ToString(CultureInfo.InvariantCulture));
                    var replay = StudentTraining.Replay(baseSamples, (int)Math.Round(prescribed.Accepted.Count * commandOptions.Replay), commandSeed);
                    var input = new CommandTrainingInput(k, checkpoint, prescribed.Accepted, replay, commandOptions, StudentTraining.WarmupSteps(commandOptions.Steps), commandSeed,
                        context.Threads, imageSize, _out);
                    return await CommandTrainAsync(trainer, dir, k, input, context, watch, checkTinyVlm: true, cancellationToken).ConfigureAwait(false);
                }
                var examples = prescribed.Accepted.Select(s => ToExample(s, imageSize, _out)).ToList();
                var options = config.FineTune with { Steps = TrainSteps(standings, prescribed.Demands) };
                var tuned = StudentTraining.FineTune(checkpoint, context, examples, baseSamples, options, StableHash.Seed("train", config.Seed.ToString(CultureInfo.InvariantCulture), k.ToString(CultureInfo.InvariantCulture)),
                    new SyncProgress<TrainingProgress>(p => report(p.Step, p.TotalSteps)), cancellationToken, out var guard, guardProbe);
                string path = Path.Combine(dir, "student.safetensors");
                byte[] bytes = tuned.Serialize(new Dictionary<string, string> { ["campaign"] = config.Name, ["iteration"] = k.ToString(CultureInfo.InvariantCulture) });
                AtomicWrite(path, bytes);
                return new TrainOutput(Path.GetRelativePath(_out, path), StudentTraining.Version(bytes), options.Steps, examples.Count, Math.Round(watch.Elapsed.TotalSeconds, 1), guard);
            }).ConfigureAwait(false);

            var measured = await StageAsync(dir, k, CampaignStages.Measure, progress, report =>
            {
                var student = TinyVlmStudent.FromBytes(checkpoint, context, $"iteration {k} student");
                baseReport ??= LoadOrEvaluate(Path.Combine(_out, "base-eval.json"), student, test, report);
                var before = k == 1 ? baseReport : LoadOrEvaluate(Path.Combine(_out, $"iter-{k - 1}", "eval.json"), student, test, report);
                var tuned = TinyVlmStudent.FromBytes(File.ReadAllBytes(Path.Combine(_out, trained.Checkpoint)), context, trained.Checkpoint);
                var after = LoadOrEvaluate(Path.Combine(dir, "eval.json"), tuned, test, report);
                var m = StudentTraining.Compare(before, after);
                string promoted = m.Promoted ? trained.Checkpoint : k == 1 ? "base.safetensors" : Read<MeasureOutput>(Path.Combine(_out, $"iter-{k - 1}", "measure.json")).PromotedCheckpoint;
                string promotedVersion = m.Promoted ? trained.ModelVersion : version;
                return Task.FromResult(new MeasureOutput(m, promotedVersion, promoted));
            }).ConfigureAwait(false);
            // The gauge holds the latest value, so a resumed campaign reports its accuracies too.
            CampaignTelemetry.Measured(config.Name, k, measured);
            checkpoint = File.ReadAllBytes(Path.Combine(_out, measured.PromotedCheckpoint));
            if (config.Budget.FixedPlan != true)
            {
                var samplesPerSkill = prescribed.Accepted.GroupBy(s => s.Proposal.SkillKey ?? "unknown", StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
                standings = GainLedger.Update(standings, k, samplesPerSkill, measured.Measurement.BeforePerSkill, measured.Measurement.AfterPerSkill);
            }
            iterations.Add(IterationReport.From(k, evaluated, located, diagnosed, prescribed, trained, measured, analysed, standings));
        }

        return Finish(teacher, allAccepted, allLocated, imageSize, baseInfo, baseReport, iterations, progress);
    }

    // The end of a campaign: the dataset of every accepted sample, then the report.
    private CampaignResult Finish(ITeacher teacher, IReadOnlyList<(int Iteration, StoredSample Sample)> allAccepted, IReadOnlyDictionary<string, LocatedStep> allLocated,
        int imageSize, BaseInfo baseInfo, EvaluationReport? baseReport, IReadOnlyList<IterationReport> iterations, IProgress<CampaignProgress>? progress)
    {
        // When every measure stage was resumed the base evaluation was never loaded.
        baseReport ??= Read<EvaluationReport>(Path.Combine(_out, "base-eval.json"));
        string datasetDirectory = Path.Combine(_out, "dataset");
        progress?.Report(new CampaignProgress(config.Iterations, "dataset", 0, allAccepted.Count));
        var manifest = CampaignDataset.Write(datasetDirectory, config.Name, teacher.Name, allAccepted, allLocated, imageSize, _out);
        // Ended like every stage, on its real count, so a display closes its line as done (not as stopped at 0).
        progress?.Report(new CampaignProgress(config.Iterations, "dataset", allAccepted.Count, allAccepted.Count));
        progress?.Report(new CampaignProgress(config.Iterations, "dataset", 1, 1, "done"));
        var report = CampaignReport.Build(config, baseInfo, baseReport, iterations, manifest);
        string reportPath = CampaignReportWriter.Write(_out, report);
        return new CampaignResult(_out, datasetDirectory, reportPath, report);
    }

    // The fine-tune stage through the user's training command (trainer.backend: command): the same data, order, steps and
    // seed as the embedded trainer, handed over as files; the checkpoint it writes is checked (a TinyVLM one when the measure
    // stage loads it here; a served student's endpoint loads its own) and kept like the embedded one's.
    private async Task<TrainOutput> CommandTrainAsync(TrainerConfig trainer, string dir, int k, CommandTrainingInput input, ComputeContext context, Stopwatch watch,
        bool checkTinyVlm, CancellationToken cancellationToken)
    {
        var options = input.Options;
        var command = new CommandTrainer(trainer.Command!, TimeSpan.FromSeconds(trainer.TimeoutS ?? TrainerConfig.DefaultTimeoutS), trainer.Checkpoint ?? TrainerConfig.DefaultCheckpoint,
            trainer.Model, trainer.Template ?? TrainerConfig.DefaultTemplate, trainer.FinetuningType ?? TrainerConfig.DefaultFinetuningType, _baseDirectory,
            text => Note?.Invoke($"Iteration {k}: train: {text}"));
        Note?.Invoke($"Iteration {k}: training through the command in trainer.command ({options.Steps} steps); its output follows and goes to {Path.Combine(dir, "trainer", "command.log")}.");
        byte[] bytes = await command.TrainAsync(dir, input, cancellationToken).ConfigureAwait(false);
        string produced = Path.Combine(dir, "trainer", "output", trainer.Checkpoint ?? TrainerConfig.DefaultCheckpoint);
        try
        {
            if (checkTinyVlm) _ = TinyVlmStudent.FromBytes(bytes, context, produced);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or FormatException)
        {
            throw new CommandTrainingException($"Iteration {k}: the training command `{CommandTrainer.Display(trainer.Command!)}` wrote {produced}, which the measure stage cannot load " +
                $"as a TinyVLM checkpoint ({e.Message.TrimEnd('.')}); rerun `campaign run` with the same --out to resume from the train stage.");
        }
        string path = Path.Combine(dir, "student.safetensors");
        AtomicWrite(path, bytes);
        return new TrainOutput(Path.GetRelativePath(_out, path), StudentTraining.Version(bytes), options.Steps, input.Added.Count, Math.Round(watch.Elapsed.TotalSeconds, 1));
    }

    // Later iterations (and a resumed run) must see accepted samples as duplicates: by scene or description and question,
    // and a drawn sample also by its stored picture.
    private async Task RegisterAcceptedAsync(IDuplicateRegistry duplicates, IReadOnlyList<StoredSample> accepted, int imageSize, CancellationToken cancellationToken)
    {
        foreach (var s in accepted)
        {
            await duplicates.TryAddAsync(QualityFilter.DuplicateKey(s.Proposal), s.Proposal.Id, cancellationToken).ConfigureAwait(false);
            if (s.Proposal.Scene is null && s.GeneratedImage is not null)
                await duplicates.TryAddAsync(QualityFilter.PictureDuplicateKey(s.Proposal, GeneratedImage(s, imageSize, _out)), s.Proposal.Id, cancellationToken).ConfigureAwait(false);
        }
    }

    private IStepLocator CreateLocator(ITeacher teacher) =>
        Locators.Create(config.Locate.Method, teacher, config.Locate.Bias, config.Locate.Delta, config.Locate.Lambda, config.Seed);

    // At most budget.failures failures are analysed: a deterministic draw when there are more.
    private List<Failure> Analysed(IReadOnlyList<Failure> failures, int iteration)
    {
        var ordered = failures.OrderBy(f => StableHash.Hex(config.Seed.ToString(CultureInfo.InvariantCulture), iteration.ToString(CultureInfo.InvariantCulture), f.Id), StringComparer.Ordinal)
            .Take(config.Budget.Failures).ToList();
        return [.. ordered.OrderBy(f => f.Id, StringComparer.Ordinal)];
    }

    private int TrainSteps(IReadOnlyDictionary<string, SkillStanding> standings, IReadOnlyList<SkillDemand> demands) =>
        config.Budget.FixedPlan == true ? config.Budget.TrainSteps : GainLedger.Steps(config.Budget.TrainSteps, standings, demands);

    private async Task<PrescribeOutput> PrescribeAsync(ITeacher teacher, ICampaignWorkers workers, List<DiagnosedFailure> work, int k, string dir, IDuplicateRegistry duplicates,
        IReadOnlyDictionary<string, SkillStanding> standings, Action<long, long> report, CancellationToken cancellationToken)
    {
        var demands = DemandPlanner.PlanWithUniform(work, config.Budget.Samples, config.Budget.Uniform ?? 0, config.Diagnose, config.Contrast,
            config.Budget.FixedPlan == true ? null : skill => GainLedger.Weight(standings, skill));
        long seed = StableHash.Seed("prescribe", config.Seed.ToString(CultureInfo.InvariantCulture), k.ToString(CultureInfo.InvariantCulture));
        PrescriptionResult result;
        if (config.Prescription == "retrieve")
        {
            var hits = await workers.RetrieveAsync(demands, config.Pool, (done, total) => report(done, total), cancellationToken).ConfigureAwait(false);
            result = await RealSamples.AdmitAsync(hits, "retrieved",
                new QualityFilter(teacher, config.Filter.ToOptions(useJudge: false)), duplicates, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var synthesizer = new Synthesizer(workers.Proposals, new QualityFilter(teacher, config.Filter.ToOptions()) { Images = Images });
            result = await synthesizer.PrescribeAsync(demands, seed, duplicates, new SyncProgress<int>(n => report(n, config.Budget.Samples)), cancellationToken).ConfigureAwait(false);
        }
        report(result.Samples.Count, config.Budget.Samples);
        var stored = result.Samples
            .Select(s => new StoredSample(s.Sample.Proposal, s.Sample.Verdict, s.Source, s.Demand.Query, s.Demand.SkillKey, s.FailureIds,
                s.Sample.Proposal.Scene is null ? StoreGeneratedImage(dir, s.Sample) : null, s.Sample.Proposal.Scene is null ? Images?.Name : null))
            .OrderBy(s => s.Proposal.Id, StringComparer.Ordinal).ToList();
        return new PrescribeOutput(config.Prescription, result.Proposed, demands, stored, [.. result.Verdicts.OrderBy(v => v.ProposalId, StringComparer.Ordinal)]);
    }

    /// <summary>
    /// Writes the picture of a described sample (it cannot be re-rendered) to <c>iter-K/images/ID.png</c> before the stage
    /// file that names it; returns that path relative to the output folder. The id becomes a file name, so only ids made
    /// of letters, digits, '-' and '_' are taken (the teacher's replies are checked for that form too).
    /// </summary>
    private string StoreGeneratedImage(string dir, Filter.AcceptedSample sample)
    {
        string id = sample.Proposal.Id;
        if (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new InvalidDataException($"The proposal id '{id[..Math.Min(id.Length, 64)]}' cannot name an image file (letters, digits, '-', '_' only).");
        string path = Path.Combine(dir, "images", id + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicWrite(path, Imaging.PngEncoder.Encode(sample.Image));
        return Path.GetRelativePath(_out, path);
    }

    /// <summary>The picture of a described sample, read back from the output folder and checked (a PNG of the campaign's size).</summary>
    public static Imaging.RgbImage GeneratedImage(StoredSample s, int imageSize, string outputDirectory)
    {
        string path = Path.GetFullPath(Path.Combine(outputDirectory, s.GeneratedImage!));
        if (!path.StartsWith(Path.GetFullPath(outputDirectory) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"The stored image '{s.GeneratedImage}' of {s.Proposal.Id} lies outside the campaign folder {outputDirectory}.");
        var image = Imaging.PngDecoder.DecodeFile(path);
        if (image.Width != imageSize || image.Height != imageSize)
            throw new InvalidDataException($"The stored image {path} is {image.Width}x{image.Height}; the campaign's student reads {imageSize}x{imageSize}.");
        return image;
    }

    /// <summary>
    /// The training example of a stored sample: its scene re-rendered, its verified program's exact rationale; for a sample
    /// drawn from a description, its stored picture, the answer the teacher read, no rationale (nothing to derive it from).
    /// </summary>
    public static StudentExample ToExample(StoredSample s, int imageSize, string? outputDirectory = null)
    {
        var p = s.Proposal;
        if (p.Scene is null)
        {
            if (s.GeneratedImage is null || outputDirectory is null)
                throw new InvalidDataException($"Sample {p.Id} has neither a scene nor a stored image to train on.");
            return new StudentExample(p.Id, GeneratedImage(s, imageSize, outputDirectory), p.Question, s.Verdict.VerifiedAnswer ?? p.Answer,
                p.Program is null ? null : World.Questions.QuestionKeys.Of(p.Program.Family), p.SkillKey is { } key ? [key] : [], [], p.Program);
        }
        var steps = World.Questions.Reasoning.Decompose(p.Program!, p.Scene!);
        return new StudentExample(p.Id, SceneRasterizer.Render(p.Scene!, imageSize), p.Question, s.Verdict.VerifiedAnswer ?? p.Answer,
            World.Questions.QuestionKeys.Of(p.Program!.Family), World.Skills.ProgramSkills.For(p.Program!, p.Scene!),
            [.. steps.Select(x => new ExampleStep(x.Question, x.Answer))], p.Program, p.Scene);
    }

    // A method of its own: the stage span is the current activity only until it returns (see StageAsync).
    private async Task<(byte[] Checkpoint, BaseInfo Info)> BaseStageAsync(ComputeContext context, IReadOnlyList<WorldSample> baseSamples,
        IProgress<CampaignProgress>? progress, CancellationToken cancellationToken)
    {
        using var activity = CampaignTelemetry.StartStage(Id, config.Name, 0, "base");
        return await BaseCheckpointAsync(context, baseSamples, progress, cancellationToken).ConfigureAwait(false);
    }

    internal async Task<(byte[] Checkpoint, BaseInfo Info)> BaseCheckpointAsync(ComputeContext context, IReadOnlyList<WorldSample> baseSamples,
        IProgress<CampaignProgress>? progress, CancellationToken cancellationToken)
    {
        string basePath = Path.Combine(_out, "base.safetensors");
        if (File.Exists(basePath))
        {
            Note?.Invoke($"Resuming: base student {basePath} already in the output folder.");
            return (File.ReadAllBytes(basePath), Read<BaseInfo>(Path.Combine(_out, "base.json")));
        }
        byte[] bytes;
        BaseInfo info;
        if (config.Student.Checkpoint is { } given)
        {
            string path = StudentConfig.Resolve(_baseDirectory, given);
            if (!File.Exists(path)) throw new CampaignConfigException($"student.checkpoint '{given}' does not exist (looked at {path}).");
            bytes = File.ReadAllBytes(path);
            _ = TinyVlmStudent.FromBytes(bytes, context, path);
            info = new BaseInfo("checkpoint", path, false, 0);
        }
        else
        {
            var b = config.Student;
            string recipe = StableHash.Hex("base", TinyVlmStudent.FormatName, Profiles.Fingerprint(b.Base.Profile), b.Base.Count.ToString(CultureInfo.InvariantCulture), b.Base.Seed.ToString(CultureInfo.InvariantCulture),
                b.BaseSteps.ToString(CultureInfo.InvariantCulture), b.BaseSeed.ToString(CultureInfo.InvariantCulture), context.Threads.ToString(CultureInfo.InvariantCulture),
                TrainingOptions.DefaultLearningRate.ToString(CultureInfo.InvariantCulture), $"trainer {StudentTrainer.RecipeVersion}")[..16];
            string cacheDir = StudentConfig.Resolve(_baseDirectory, b.Cache);
            string cached = Path.Combine(cacheDir, $"base-{recipe}.safetensors");
            if (File.Exists(cached))
            {
                bytes = File.ReadAllBytes(cached);
                Note?.Invoke($"Base student taken from the cache: {cached} (recipe {b.Base}, {b.BaseSteps} steps).");
                info = new BaseInfo("cache", cached, true, 0);
            }
            else
            {
                Note?.Invoke($"Training the base student ({b.Base}, {b.BaseSteps} steps); it is cached in {cacheDir} for later runs.");
                var watch = Stopwatch.StartNew();
                var examples = StudentTraining.Examples(baseSamples);
                var student = TinyVlmStudent.Create(context, TokenVocabulary.Build(examples.SelectMany(e => e.Steps.Select(s => s.Question).Prepend(e.Question))), (ulong)b.BaseSeed);
                await Task.Run(() => StudentTrainer.Train(student, examples, new TrainingOptions(b.BaseSteps, (ulong)b.BaseSeed),
                    new SyncProgress<TrainingProgress>(p => progress?.Report(new CampaignProgress(0, "base", p.Step, p.TotalSteps))), cancellationToken), cancellationToken).ConfigureAwait(false);
                bytes = student.Serialize();
                Directory.CreateDirectory(cacheDir);
                AtomicWrite(cached, bytes);
                info = new BaseInfo("trained", cached, false, Math.Round(watch.Elapsed.TotalSeconds, 1));
            }
        }
        AtomicWrite(basePath, bytes);
        CampaignJson.Write(Path.Combine(_out, "base.json"), info);
        return (bytes, info);
    }

    private static EvaluationReport LoadOrEvaluate(string path, TinyVlmStudent student, IReadOnlyList<StudentExample> test, Action<long, long> report)
    {
        if (File.Exists(path)) return Read<EvaluationReport>(path);
        var result = StudentTraining.Evaluate(student, test, Path.GetFileNameWithoutExtension(path), new SyncProgress<int>(n => report(n, test.Count)));
        // The per-answer list is large and not needed to resume: keep the aggregates.
        var slim = result with { Answers = [] };
        CampaignJson.Write(path, slim);
        return slim;
    }

    private async Task<T> StageAsync<T>(string dir, int iteration, string stage, IProgress<CampaignProgress>? progress, Func<Action<long, long>, Task<T>> run)
    {
        string path = Path.Combine(dir, stage + ".json");
        // The stage span starts a trace, so stopping it leaves no current activity: this method's caller keeps its own
        // (an async method's changes to Activity.Current do not flow back to the caller).
        using var activity = CampaignTelemetry.StartStage(Id, config.Name, iteration, stage);
        if (File.Exists(path))
        {
            activity?.SetTag(CampaignTelemetry.ResumedTag, true);
            Note?.Invoke($"Iteration {iteration}: {stage} already done ({Path.GetRelativePath(_out, path)}), not redone.");
            progress?.Report(new CampaignProgress(iteration, stage, 1, 1, "resumed"));
            return Read<T>(path);
        }
        progress?.Report(new CampaignProgress(iteration, stage, 0, 1));
        long started = Stopwatch.GetTimestamp();
        T result;
        try
        {
            result = await run((done, total) => progress?.Report(new CampaignProgress(iteration, stage, done, total))).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        CampaignTelemetry.StageRan(config.Name, stage, Stopwatch.GetElapsedTime(started));
        CampaignJson.Write(path, result);
        progress?.Report(new CampaignProgress(iteration, stage, 1, 1, "done"));
        return result;
    }

    // A rerun into the same folder must use the same config, or resumed stages would mix two campaigns.
    private void GuardConfig()
    {
        string path = Path.Combine(_out, "config.json");
        string current = System.Text.Json.JsonSerializer.Serialize(config, CampaignJson.Options);
        if (File.Exists(path))
        {
            string stored = File.ReadAllText(path);
            if (stored.TrimEnd() == current.TrimEnd()) return;
            if (!SameButHowToTrain(stored, current))
                throw new CampaignConfigException($"{_out} holds a campaign run with a different config ({path}); use another --out folder, or delete it to start over.");
            // A training command that failed is fixed and the campaign resumed: finished stages stay, the train stage reruns.
            Note?.Invoke($"trainer.command or trainer.timeout_s changed since the last run into {_out}; finished stages are kept, the next train stage uses the new command.");
            File.WriteAllText(path, current + "\n");
            return;
        }
        Directory.CreateDirectory(_out);
        File.WriteAllText(path, current + "\n");
    }

    // How the training command is started (its argv, its timeout) may change between runs into one folder: it says how to
    // run the trainer, not what the stages before it did, so a failed command can be fixed and the campaign resumed.
    private static bool SameButHowToTrain(string stored, string current)
    {
        static System.Text.Json.Nodes.JsonNode? Without(string json)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(json);
            if (node?["trainer"] is System.Text.Json.Nodes.JsonObject trainer)
            {
                trainer.Remove("command");
                trainer.Remove("timeout_s");
            }
            return node;
        }
        try
        {
            return System.Text.Json.Nodes.JsonNode.DeepEquals(Without(stored), Without(current));
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Where <c>budget.guard</c> measures its probe fine-tune: <see cref="StudentTraining.GuardProbeSamples"/> samples drawn
    /// like the validation split (its profile, a seed of their own), so the guard sees the forgetting the student will be
    /// judged on, without the test split. Null with the guard off.
    /// </summary>
    internal static IReadOnlyList<WorldSample>? GuardProbe(CampaignConfig config) => config.Budget.Guard is > 0
        ? Generate(new SplitConfig { Profile = config.Validation.Profile, Count = StudentTraining.GuardProbeSamples, Seed = StableHash.Seed("guard-probe", config.Validation.Seed.ToString(CultureInfo.InvariantCulture)) })
        : null;

    internal static IReadOnlyList<WorldSample> Generate(SplitConfig split)
    {
        var generator = new WorldGenerator(Profiles.Resolve(split.Profile));
        var samples = new WorldSample[split.Count];
        Parallel.For(0, split.Count, i => samples[i] = generator.Generate(split.Seed, i));
        return samples;
    }

    private static T Read<T>(string path) => CampaignJson.Read<T>(path);

    private static void AtomicWrite(string path, byte[] bytes)
    {
        string temporary = path + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>Where the campaign's base student came from.</summary>
/// <param name="Source">"trained", "cache" or "checkpoint".</param>
public sealed record BaseInfo(string Source, string Path, bool Cached, double TrainSeconds);
