using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FailureSynth.Datasets;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Locate;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Teacher;
using FailureSynth.Loop.Telemetry;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Evaluation;
using FailureSynth.TinyVlm.Training;
using FailureSynth.World;

namespace FailureSynth.Loop.Campaigns;

// A campaign on the user's own data (validation.file, test.file): the served student answers the questions directly and
// they are scored by their formats' rules; failures carry no rationale, so the located step is the whole question; the
// teacher's free-text diagnoses are grouped into a stable skill list (SkillGroups); prescribed data is synthesised as
// usual; after each train stage the endpoint loads the new weights under a new name (student.reload), and the measure
// stage asks that name on the test file. The stage files and resuming are those of the generated campaign.
public sealed partial class CampaignRunner
{
    /// <summary>The served student of a campaign with <c>student.reload</c> (external splits); built by the caller like the remote teacher.</summary>
    public IServedStudent? ServedStudent { get; init; }

    /// <summary>The located step of a failure without a rationale: the whole question, marked as a fallback.</summary>
    public const string WholeQuestion = "whole-question";

    /// <summary>The file the free-text skill groups are written to, in the output folder.</summary>
    public const string SkillGroupsFile = "skill-groups.json";

    private async Task<CampaignResult> RunExternalAsync(ComputeContext context, int threads, IProgress<CampaignProgress>? progress, CancellationToken cancellationToken)
    {
        var served = ServedStudent ?? throw new CampaignConfigException("validation.file and test.file need a served student (student.backend: openai); this runner was given none.");
        if (Workers is not null) throw new CampaignConfigException("Campaigns on dataset files (validation.file) run in-process only (failuresynth campaign run).");
        var teacher = Teacher ?? new EmbeddedTeacher(config.Teacher.ToOptions());
        var validation = ExternalSplit.Load("validation", config.Validation);
        var test = ExternalSplit.Load("test", config.Test);
        foreach (var split in new[] { validation, test })
            Note?.Invoke($"{split.Key}: {split.Samples.Count} questions from {split.Dataset.Path} ({split.Dataset.Format})" +
                (split.LeftOut > 0 ? $"; {split.LeftOut} without an image left out." : "."));
        var replayFile = config.Replay is { } r ? ExternalSplit.Load("replay", r) : null;
        var baseSamples = replayFile is null ? Generate(config.Student.Base) : [];
        var (checkpoint, baseInfo) = await BaseStageAsync(context, baseSamples, progress, cancellationToken).ConfigureAwait(false);
        var imageSize = TinyVlmStudent.FromBytes(checkpoint, context, "base").Model.Config.ImageSize;

        var iterations = new List<IterationReport>();
        var duplicates = new InMemoryDuplicateRegistry();
        var allAccepted = new List<(int Iteration, StoredSample Sample)>();
        var allLocated = new Dictionary<string, LocatedStep>(StringComparer.Ordinal);
        var groups = new SkillGroups();
        var filter = new QualityFilter(teacher, config.Filter.ToOptions()) { Images = Images };
        var workers = new InProcessWorkers(context, teacher, CreateLocator(teacher), filter);
        string model = served.InitialModel;
        EvaluationReport? baseReport = null;
        var noStandings = new Dictionary<string, SkillStanding>(StringComparer.Ordinal);
        FilePool? filePool = null;
        for (int k = 1; k <= config.Iterations; k++)
        {
            using var iterationActivity = CampaignTelemetry.StartIteration(Id, config.Name, k);
            string dir = Path.Combine(_out, $"iter-{k}");
            string asked = model;
            var evaluated = await StageAsync(dir, k, CampaignStages.Evaluate, progress, async report =>
            {
                await EnsureServedAsync(served, asked, cancellationToken).ConfigureAwait(false);
                var replies = await validation.AskAsync(served.For(asked), FailureCollector.Batch, report, cancellationToken).ConfigureAwait(false);
                var answers = await validation.ScoreAsync(replies, teacher as IAnswerJudge, cancellationToken).ConfigureAwait(false);
                var failures = validation.Failures(answers, $"{config.Name}/{config.Seed}/{k}");
                var output = new EvaluateOutput(asked, answers.Count, answers.Count - failures.Count, failures);
                CampaignTelemetry.Evaluated(config.Name, k, output);
                return output;
            }).ConfigureAwait(false);

            var analysed = Analysed(evaluated.Failures, k);
            var located = await StageAsync(dir, k, CampaignStages.Locate, progress, report =>
            {
                // Asked directly, the student gave no rationale to search: its first wrong step is the question itself.
                var output = new LocateOutput(WholeQuestion, [.. analysed.Select(f => new LocatedFailure(f.Id, new LocatedStep(1, f.Question.Text, f.Predicted, WholeQuestion, Fallback: true)))]);
                report(output.Located.Count, output.Located.Count);
                return Task.FromResult(output);
            }).ConfigureAwait(false);
            var steps = located.Located.ToDictionary(l => l.FailureId, l => l.Step, StringComparer.Ordinal);
            foreach (var (id, step) in steps) allLocated[id] = step;

            // The stage file keeps the teacher's own words; the groups are rebuilt from the stage files in order, so a resumed run assigns the same keys.
            var diagnosedRaw = await StageAsync(dir, k, CampaignStages.Diagnose, progress, async report =>
                new DiagnoseOutput(await workers.DiagnoseAsync([.. analysed.Select(f => (f, steps[f.Id]))], report, cancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
            var failuresById = analysed.ToDictionary(f => f.Id, StringComparer.Ordinal);
            var diagnosed = new DiagnoseOutput([.. diagnosedRaw.Diagnoses.Select(d =>
            {
                string key = groups.Assign(k, failuresById[d.FailureId], d.Diagnosis);
                return new DiagnosedRecord(d.FailureId, new SkillDiagnosis(groups.LabelOf(key), key));
            })]);
            CampaignJson.Write(Path.Combine(_out, SkillGroupsFile), groups.Groups);

            var diagnoses = diagnosed.Diagnoses.ToDictionary(d => d.FailureId, d => d.Diagnosis, StringComparer.Ordinal);
            var work = analysed.Select(f => new DiagnosedFailure(f, steps[f.Id], diagnoses[f.Id])).ToList();
            var prescribed = await StageAsync(dir, k, CampaignStages.Prescribe, progress, async report =>
            {
                PrescribeOutput output;
                if (config.Prescription == "retrieve")
                {
                    filePool ??= await FilePool.BuildAsync(config.Pool, teacher, Path.Combine(_out, "pool-skills.json"), report, cancellationToken).ConfigureAwait(false);
                    var demands = DemandPlanner.Plan(work, config.Budget.Samples, config.Diagnose, config.Contrast);
                    output = filePool.Retrieve(demands, allAccepted.Select(a => a.Sample.Proposal.Id).ToHashSet(StringComparer.Ordinal), dir, _out);
                }
                else output = await PrescribeAsync(teacher, workers, work, k, dir, duplicates, noStandings, report, cancellationToken).ConfigureAwait(false);
                CampaignTelemetry.Prescribed(config.Name, k, output);
                return output;
            }).ConfigureAwait(false);
            await RegisterAcceptedAsync(duplicates, prescribed.Accepted, imageSize, cancellationToken).ConfigureAwait(false);
            allAccepted.AddRange(prescribed.Accepted.Select(s => (k, s)));

            var trained = await StageAsync(dir, k, CampaignStages.Train, progress, async report =>
            {
                var watch = Stopwatch.StartNew();
                var options = config.FineTune with { Steps = config.Budget.TrainSteps };
                long seed = StableHash.Seed("train", config.Seed.ToString(CultureInfo.InvariantCulture), k.ToString(CultureInfo.InvariantCulture));
                int replayCount = (int)Math.Round(prescribed.Accepted.Count * options.Replay);
                if (config.Trainer is { IsCommand: true } trainer)
                {
                    var input = new CommandTrainingInput(k, checkpoint, prescribed.Accepted, replayFile is null ? StudentTraining.Replay(baseSamples, replayCount, seed) : [],
                        options, StudentTraining.WarmupSteps(options.Steps), seed, context.Threads, imageSize, _out, replayFile is null ? null : ReplayRecords(replayFile, replayCount, seed));
                    return await CommandTrainAsync(trainer, dir, k, input, context, watch, checkTinyVlm: false, cancellationToken).ConfigureAwait(false);
                }
                // The embedded trainer fine-tunes the local TinyVLM copy of the served weights, which the endpoint then loads.
                var examples = prescribed.Accepted.Select(s => ToExample(s, imageSize, _out)).ToList();
                if (replayFile is not null) examples.AddRange(ReplayExamples(replayFile, replayCount, seed, imageSize));
                var tuned = StudentTraining.FineTune(checkpoint, context, examples, replayFile is null ? baseSamples : [], replayFile is null ? options : options with { Replay = 0, Distill = 0 }, seed,
                    new SyncProgress<TrainingProgress>(p => report(p.Step, p.TotalSteps)), cancellationToken);
                string path = Path.Combine(dir, "student.safetensors");
                byte[] bytes = tuned.Serialize(new Dictionary<string, string> { ["campaign"] = config.Name, ["iteration"] = k.ToString(CultureInfo.InvariantCulture) });
                AtomicWrite(path, bytes);
                return new TrainOutput(Path.GetRelativePath(_out, path), StudentTraining.Version(bytes), options.Steps, examples.Count, Math.Round(watch.Elapsed.TotalSeconds, 1));
            }).ConfigureAwait(false);

            string candidate = ServedName(k, trained);
            string weights = TrainedWeightsPath(dir, trained);
            var measured = await StageAsync(dir, k, CampaignStages.Measure, progress, async report =>
            {
                baseReport ??= await LoadOrScoreAsync(Path.Combine(_out, "base-eval.json"), served, served.InitialModel, test, teacher as IAnswerJudge, report, cancellationToken).ConfigureAwait(false);
                var before = k == 1 ? baseReport : PromotedEval(k - 1);
                await LoadServedAsync(served, candidate, weights, cancellationToken).ConfigureAwait(false);
                var after = await LoadOrScoreAsync(Path.Combine(dir, "eval.json"), served, candidate, test, teacher as IAnswerJudge, report, cancellationToken).ConfigureAwait(false);
                CampaignJson.Write(Path.Combine(dir, "before-eval.json"), before);
                var m = StudentTraining.Compare(before, after);
                string promoted = m.Promoted ? trained.Checkpoint : k == 1 ? "base.safetensors" : Read<MeasureOutput>(Path.Combine(_out, $"iter-{k - 1}", "measure.json")).PromotedCheckpoint;
                return new MeasureOutput(m, m.Promoted ? candidate : asked, promoted);
            }).ConfigureAwait(false);
            CampaignTelemetry.Measured(config.Name, k, measured);
            checkpoint = File.ReadAllBytes(Path.Combine(_out, measured.PromotedCheckpoint));
            model = measured.PromotedVersion;
            iterations.Add(IterationReport.From(k, evaluated, located, diagnosed, prescribed, trained, measured, analysed, noStandings));
        }

        return Finish(teacher, allAccepted, allLocated, imageSize, baseInfo, baseReport, iterations, progress);
    }

    // The test evaluation of the model in use after iteration k: its trained model's if promoted, else the one it started from.
    private EvaluationReport PromotedEval(int k)
    {
        string dir = Path.Combine(_out, $"iter-{k}");
        return Read<MeasureOutput>(Path.Combine(dir, "measure.json")).Measurement.Promoted
            ? Read<EvaluationReport>(Path.Combine(dir, "eval.json"))
            : Read<EvaluationReport>(Path.Combine(dir, "before-eval.json"));
    }

    // The name the endpoint serves an iteration's weights under: the campaign, the iteration and the weights' hash, so a
    // rerun that trains different weights never reuses an adapter loaded before.
    private string ServedName(int k, TrainOutput trained) =>
        string.Create(CultureInfo.InvariantCulture, $"{config.Name}-iter-{k}-{trained.ModelVersion[^8..]}");

    // What the endpoint loads: the training command's output folder (LLaMA-Factory writes its adapter there), or the
    // embedded trainer's checkpoint file.
    private string TrainedWeightsPath(string dir, TrainOutput trained) =>
        config.Trainer is { IsCommand: true } ? Path.Combine(dir, "trainer", "output") : Path.Combine(_out, trained.Checkpoint);

    private async Task LoadServedAsync(IServedStudent served, string name, string path, CancellationToken cancellationToken)
    {
        if (await served.ServesAsync(name, cancellationToken).ConfigureAwait(false)) return;
        Note?.Invoke($"Loading {path} into the student endpoint as '{name}' (student.reload: load-lora-adapter).");
        await served.LoadAsync(name, path, cancellationToken).ConfigureAwait(false);
    }

    // A resumed campaign may find the endpoint restarted since: a trained model it needs is loaded again from the stage files.
    private async Task EnsureServedAsync(IServedStudent served, string name, CancellationToken cancellationToken)
    {
        if (name == served.InitialModel) return;
        for (int k = 1; k <= config.Iterations; k++)
        {
            string dir = Path.Combine(_out, $"iter-{k}");
            string trainPath = Path.Combine(dir, CampaignStages.Train + ".json");
            if (!File.Exists(trainPath)) break;
            var trained = Read<TrainOutput>(trainPath);
            if (ServedName(k, trained) == name)
            {
                await LoadServedAsync(served, name, TrainedWeightsPath(dir, trained), cancellationToken).ConfigureAwait(false);
                return;
            }
        }
        throw new CampaignConfigException($"The model '{name}' is neither student.model nor one this campaign trained ({_out}).");
    }

    private static async Task<EvaluationReport> LoadOrScoreAsync(string path, IServedStudent served, string model, ExternalSplit split, IAnswerJudge? judge, Action<long, long> report,
        CancellationToken cancellationToken)
    {
        if (File.Exists(path)) return Read<EvaluationReport>(path);
        var watch = Stopwatch.StartNew();
        var replies = await split.AskAsync(served.For(model), FailureCollector.Batch, report, cancellationToken).ConfigureAwait(false);
        var result = split.Report(await split.ScoreAsync(replies, judge, cancellationToken).ConfigureAwait(false), model, Path.GetFileNameWithoutExtension(path), watch.Elapsed.TotalSeconds);
        CampaignJson.Write(path, result);
        return result;
    }

    // The replayed questions of the user's data: a deterministic draw, each with its picture, as dataset records.
    private static List<DatasetRecord> ReplayRecords(ExternalSplit replay, int count, long seed) =>
        [.. ReplayDraw(replay, count, seed).Select(s => new DatasetRecord(
            s with { Image = DatasetLayout.ImagePath(s.Id), Source = "replay" }, File.ReadAllBytes(replay.ImagePath(s)),
            new JsonObject { ["generator"] = "failuresynth-campaign", ["source"] = "replay", ["file"] = replay.Dataset.Path }))];

    private static IEnumerable<StudentExample> ReplayExamples(ExternalSplit replay, int count, long seed, int imageSize) =>
        ReplayDraw(replay, count, seed).Select(s =>
        {
            var image = Imaging.PngDecoder.DecodeFile(replay.ImagePath(s));
            if (image.Width != imageSize || image.Height != imageSize)
                throw new InvalidDataException($"replay.file: the image of {s.Id} is {image.Width}x{image.Height}; the student reads {imageSize}x{imageSize}.");
            return new StudentExample(s.Id, image, ExternalSplit.Prompt(s), s.Choices is { Count: > 0 } ? s.Answer : ExternalSplit.Gold(s), s.Family, s.Skills ?? [], [], null);
        });

    private static IEnumerable<VqaSample> ReplayDraw(ExternalSplit replay, int count, long seed) =>
        DeterministicDraw.Indices(replay.Samples.Count, count, DeterministicRandom.Derive(seed, 0x7e91a7)).Order().Select(i => replay.Samples[i]);
}
