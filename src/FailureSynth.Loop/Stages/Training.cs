using System.Globalization;
using FailureSynth.Loop.Common;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Evaluation;
using FailureSynth.TinyVlm.Inference;
using FailureSynth.TinyVlm.Training;
using FailureSynth.World;
using FailureSynth.World.Rendering;

namespace FailureSynth.Loop.Stages;

/// <summary>Settings of one fine-tuning run on prescribed data.</summary>
/// <param name="Steps">Optimiser steps.</param>
/// <param name="LearningRate">Peak learning rate (lower than base training: the model is already trained).</param>
/// <param name="Replay">Replayed original samples per prescribed sample (guards against forgetting).</param>
/// <param name="BatchSize">Images per step.</param>
/// <param name="Distill">
/// Weight of distillation on the replayed samples (a second guard against forgetting): each replayed question also pulls
/// the student's answer distribution toward the one of the checkpoint it started from (KL divergence). 0 = labels only.
/// </param>
/// <param name="FreezeNorm">
/// Keep the starting checkpoint's batch-norm statistics while fine-tuning (<see cref="TrainingOptions.FreezeNormStatistics"/>);
/// left out of JSON when off, so the recipes (cache keys) of runs from before it existed do not change.
/// </param>
/// <param name="KeepStart">
/// A third guard against forgetting: after training, each weight and batch-norm statistic becomes
/// <c>(1 - KeepStart) * fine-tuned + KeepStart * starting</c> (interpolation in weight space between the two checkpoints,
/// which start from the same weights and so stay in one basin). 0 = off, left out of JSON like <paramref name="FreezeNorm"/>.
/// </param>
/// <param name="Guard">
/// Replay chosen by what the student is about to forget (0 = off, left out of JSON like <paramref name="FreezeNorm"/>): a probe
/// fine-tune with these settings is measured per skill on original samples it does not train on; when skills fall, the
/// fine-tune is run again from the start with this share of its replay drawn from original samples of those skills
/// (<see cref="StudentTraining.FineTune"/>).
/// </param>
public sealed record FineTuneOptions(int Steps = 300, float LearningRate = 1e-3f, double Replay = 1.0, int BatchSize = 64, double Distill = 0,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)] bool FreezeNorm = false,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)] double KeepStart = 0,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)] double Guard = 0)
{
    public void Validate()
    {
        if (Steps < 1) throw new ArgumentException($"train_steps must be at least 1 (got {Steps}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"learning_rate must be positive (got {LearningRate.ToString(CultureInfo.InvariantCulture)}).");
        if (Replay is < 0 or > 20) throw new ArgumentException($"replay must be between 0 and 20 original samples per prescribed sample (got {Replay.ToString(CultureInfo.InvariantCulture)}).");
        if (BatchSize < 1) throw new ArgumentException($"batch_size must be at least 1 (got {BatchSize}).");
        if (Distill is < 0 or > 100 || double.IsNaN(Distill)) throw new ArgumentException($"distill must be between 0 (off) and 100 (got {Distill.ToString(CultureInfo.InvariantCulture)}).");
        if (Distill > 0 && Replay == 0) throw new ArgumentException("distill needs replay > 0: it keeps the answers on the replayed samples.");
        if (KeepStart is < 0 or >= 1 || double.IsNaN(KeepStart))
            throw new ArgumentException($"keep_start must be at least 0 (off) and below 1 (1 would throw the fine-tuning away) (got {KeepStart.ToString(CultureInfo.InvariantCulture)}).");
        if (Guard is < 0 or > 1 || double.IsNaN(Guard))
            throw new ArgumentException($"guard must be between 0 (off) and 1, the share of the replay given to the skills a probe fine-tune forgets (got {Guard.ToString(CultureInfo.InvariantCulture)}).");
        if (Guard > 0 && Replay == 0) throw new ArgumentException("guard needs replay > 0: it chooses which original samples are replayed.");
    }
}

/// <summary>What the forgetting guard of one fine-tune found: the skills its probe fell on (points on the probe samples) and the replay it gave them.</summary>
public sealed record GuardReport(int ProbeSamples, IReadOnlyDictionary<string, double> Falls, IReadOnlyDictionary<string, int> Replayed);

/// <summary>Accuracy before and after, per skill, and whether the new checkpoint was promoted.</summary>
public sealed record Measurement(
    double Before,
    double After,
    IReadOnlyDictionary<string, double> BeforePerSkill,
    IReadOnlyDictionary<string, double> AfterPerSkill,
    bool Promoted,
    string? LargestDropSkill,
    double LargestDrop);

/// <summary>The train and measure stages: fine-tune on prescribed data plus replay, evaluate per skill on the test split, promote only if better.</summary>
public static class StudentTraining
{
    /// <summary>Renders samples as student examples (in parallel; order kept).</summary>
    public static IReadOnlyList<StudentExample> Examples(IReadOnlyList<WorldSample> samples, int imageSize = SceneRasterizer.DefaultSize)
    {
        var examples = new StudentExample[samples.Count];
        Parallel.For(0, samples.Count, i => examples[i] = StudentExample.FromWorldSample(samples[i], imageSize));
        return examples;
    }

    /// <summary>The training example of an accepted prescribed sample (its verified program's exact rationale).</summary>
    public static StudentExample Example(PrescribedSample p) => new(
        p.Sample.Proposal.Id,
        p.Sample.Image,
        p.Sample.Proposal.Question,
        p.Sample.Verdict.VerifiedAnswer ?? p.Sample.Proposal.Answer,
        p.Sample.Proposal.Program is { } program ? World.Questions.QuestionKeys.Of(program.Family) : null,
        p.Sample.Skills,
        [.. p.Sample.Steps.Select(s => new ExampleStep(s.Question, s.Answer))],
        p.Sample.Proposal.Program,
        p.Sample.Proposal.Scene);

    /// <summary>A deterministic replay draw of <paramref name="count"/> samples from the original training data.</summary>
    public static IReadOnlyList<WorldSample> Replay(IReadOnlyList<WorldSample> original, int count, long seed)
    {
        return [.. DeterministicDraw.Indices(original.Count, count, DeterministicRandom.Derive(seed, 0x7e91a7)).Order().Select(i => original[i])];
    }

    /// <summary>Learning-rate warm-up of a fine-tune of <paramref name="steps"/> steps: a tenth of them, at least one.</summary>
    public static int WarmupSteps(int steps) => Math.Max(1, steps / 10);

    /// <summary>Names the guard's probe set and rules in cached run recipes: raise it when either changes.</summary>
    public const int GuardVersion = 2;

    /// <summary>Samples the forgetting guard's probe is measured on (not trained on): enough for a few hundred per skill.</summary>
    public const int GuardProbeSamples = 20000;

    /// <summary>A skill counts as forgotten by the probe when it falls by more than this (a share: 0.01 = 1 point) ...</summary>
    public const double GuardFall = 0.01;

    /// <summary>... on at least this many probe samples (fewer are too noisy to act on) ...</summary>
    public const int GuardMinSamples = 50;

    /// <summary>
    /// ... and by at least this many standard errors of the difference of two accuracies measured on those samples
    /// (<c>sqrt(2 p (1 - p) / n)</c>, p the start's accuracy): a fall of one or two questions on a skill of 70 is noise,
    /// and replay spent on it is taken from the skills that really fall.
    /// </summary>
    public const double GuardStandardErrors = 2.0;

    /// <summary>Whether a skill measured on <paramref name="count"/> probe samples, at <paramref name="before"/> on the start and <paramref name="after"/> on the probe, counts as forgotten.</summary>
    public static bool GuardCounts(double before, double after, int count)
    {
        double fall = before - after;
        if (count < GuardMinSamples || fall <= GuardFall) return false;
        double p = Math.Clamp(before, 1.0 / count, 1 - 1.0 / count); // a skill answered all right or all wrong still has some noise
        return fall > GuardStandardErrors * Math.Sqrt(2 * p * (1 - p) / count);
    }

    /// <summary>
    /// Fine-tunes a copy of <paramref name="checkpoint"/> on <paramref name="added"/> plus replay; returns the new student.
    /// With <see cref="FineTuneOptions.Guard"/>, first a probe: the same fine-tune, measured per skill against the start on
    /// the probe samples (see <c>probeSamples</c>). If no skill falls by more than <see cref="GuardFall"/> and by more
    /// than <see cref="GuardStandardErrors"/> standard errors (<see cref="GuardCounts"/>), the probe is the result.
    /// Otherwise the fine-tune runs again from the start, with the share <c>guard</c> of its replay drawn from original samples of the fallen skills (split by how far each fell) and the rest
    /// drawn as usual; <paramref name="guard"/> gets what was found.
    /// </summary>
    public static TinyVlmStudent FineTune(byte[] checkpoint, ComputeContext context, IReadOnlyList<StudentExample> added, IReadOnlyList<WorldSample> originalData,
        FineTuneOptions options, long seed, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) =>
        FineTune(checkpoint, context, added, originalData, options, seed, progress, cancellationToken, out _);

    /// <inheritdoc cref="FineTune(byte[], ComputeContext, IReadOnlyList{StudentExample}, IReadOnlyList{WorldSample}, FineTuneOptions, long, IProgress{TrainingProgress}?, CancellationToken)"/>
    /// <param name="probeSamples">
    /// Where the guard measures the probe (held-out samples of the distribution the student is judged on, e.g. drawn like the
    /// validation split); null: <see cref="GuardProbeSamples"/> original samples, kept out of the replay.
    /// </param>
    public static TinyVlmStudent FineTune(byte[] checkpoint, ComputeContext context, IReadOnlyList<StudentExample> added, IReadOnlyList<WorldSample> originalData,
        FineTuneOptions options, long seed, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, out GuardReport? guard,
        IReadOnlyList<WorldSample>? probeSamples = null)
    {
        options.Validate();
        guard = null;
        if (options.Guard == 0 || originalData.Count == 0)
            return FineTuneOnce(checkpoint, context, added, Replay(originalData, (int)Math.Round(added.Count * options.Replay), seed), options, seed, progress, cancellationToken);

        IReadOnlyList<WorldSample> rest = originalData;
        if (probeSamples is null)
        {
            // Original samples as the probe set are kept out of the replay, so the probe measures forgetting, not memory.
            var probeIndices = DeterministicDraw.Indices(originalData.Count, Math.Min(GuardProbeSamples, originalData.Count / 4), DeterministicRandom.Derive(seed, 0x9a4d));
            var held = new HashSet<int>(probeIndices);
            rest = [.. Enumerable.Range(0, originalData.Count).Where(i => !held.Contains(i)).Select(i => originalData[i])];
            probeSamples = [.. probeIndices.Order().Select(i => originalData[i])];
        }
        var start = TinyVlmStudent.FromBytes(checkpoint, context, "current checkpoint");
        var probeSet = Examples(probeSamples, start.Model.Config.ImageSize);
        int replayCount = (int)Math.Round(added.Count * options.Replay);
        var probe = FineTuneOnce(checkpoint, context, added, Replay(rest, replayCount, seed), options, seed, progress, cancellationToken);
        var before = Evaluate(start, probeSet, "start").PerSkill;
        var after = Evaluate(probe, probeSet, "probe").PerSkill;
        var falls = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (skill, b) in before)
        {
            double accuracy = after.TryGetValue(skill, out var a) ? a.Accuracy : 0;
            if (GuardCounts(b.Accuracy, accuracy, b.Count)) falls[skill] = Math.Round(b.Accuracy - accuracy, 6);
        }
        var replayed = new SortedDictionary<string, int>(StringComparer.Ordinal);
        if (falls.Count == 0)
        {
            guard = new GuardReport(probeSet.Count, falls, replayed);
            AddTrainingSetting(probe, "guard", System.Text.Json.JsonSerializer.SerializeToNode(guard));
            return probe;
        }

        // The guarded share of the replay, split over the fallen skills by how far each fell (largest remainders), each
        // skill's part drawn from the original samples that exercise it; the rest of the replay is drawn as usual.
        int guarded = (int)Math.Round(replayCount * options.Guard);
        var shares = Apportion(guarded, falls);
        var chosen = new HashSet<int>();
        foreach (var (skill, count) in shares)
        {
            var candidates = Enumerable.Range(0, rest.Count).Where(i => !chosen.Contains(i) && rest[i].Skills.Contains(skill, StringComparer.Ordinal)).ToList();
            var picked = DeterministicDraw.Indices(candidates.Count, count, DeterministicRandom.Derive(seed, StableHash.Seed("guard", skill))).Select(j => candidates[j]).ToList();
            chosen.UnionWith(picked);
            replayed[skill] = picked.Count;
        }
        var others = Enumerable.Range(0, rest.Count).Where(i => !chosen.Contains(i)).Select(i => rest[i]).ToList();
        var replay = chosen.Order().Select(i => rest[i]).Concat(Replay(others, replayCount - chosen.Count, seed)).ToList();
        guard = new GuardReport(probeSet.Count, falls, replayed);
        var guardedStudent = FineTuneOnce(checkpoint, context, added, replay, options, seed, progress, cancellationToken);
        // The checkpoint's training settings say which skills its replay was chosen for.
        AddTrainingSetting(guardedStudent, "guard", System.Text.Json.JsonSerializer.SerializeToNode(guard));
        return guardedStudent;
    }

    /// <summary><paramref name="total"/> split over the keys in proportion to their weights (largest remainders, ties by key).</summary>
    public static IReadOnlyList<(string Key, int Count)> Apportion(int total, IReadOnlyDictionary<string, double> weights)
    {
        double sum = weights.Values.Sum();
        if (total <= 0 || sum <= 0) return [.. weights.Keys.Order(StringComparer.Ordinal).Select(k => (k, 0))];
        var exact = weights.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, Value: total * kv.Value / sum)).ToList();
        var counts = exact.ToDictionary(e => e.Key, e => (int)Math.Floor(e.Value), StringComparer.Ordinal);
        int left = total - counts.Values.Sum();
        foreach (var e in exact.OrderByDescending(e => e.Value - Math.Floor(e.Value)).ThenBy(e => e.Key, StringComparer.Ordinal).Take(left)) counts[e.Key]++;
        return [.. exact.Select(e => (e.Key, counts[e.Key]))];
    }

    private static TinyVlmStudent FineTuneOnce(byte[] checkpoint, ComputeContext context, IReadOnlyList<StudentExample> added, IReadOnlyList<WorldSample> replayDraw,
        FineTuneOptions options, long seed, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var student = TinyVlmStudent.FromBytes(checkpoint, context, "current checkpoint");
        var replay = Examples(replayDraw, student.Model.Config.ImageSize);
        var data = added.Concat(replay).ToList();
        if (data.Count == 0) throw new ArgumentException("Nothing to train on: no prescribed samples and no replay.");
        var training = new TrainingOptions(options.Steps, (ulong)seed, options.BatchSize, options.LearningRate, WarmupSteps: WarmupSteps(options.Steps),
            DistillWeight: (float)options.Distill, FreezeNormStatistics: options.FreezeNorm, SceneProbeWarmup: TrainingOptions.FineTuneSceneProbeWarmup);
        bool[] anchored = [.. added.Select(_ => false), .. replay.Select(_ => true)];
        var start = options.KeepStart > 0 ? StateOf(student.Model) : null;
        StudentTrainer.Train(student, data, training, progress, cancellationToken, anchored);
        if (start is not null)
        {
            Interpolate(student.Model, start, options.KeepStart);
            // The checkpoint's training settings say that its weights are a mix, and how much of the start they keep.
            AddTrainingSetting(student, "keep_start", options.KeepStart);
        }
        return student;
    }

    private static void AddTrainingSetting(TinyVlmStudent student, string key, System.Text.Json.Nodes.JsonNode? value)
    {
        var settings = System.Text.Json.Nodes.JsonNode.Parse(student.Metadata[TinyVlmStudent.TrainingKey])!.AsObject();
        settings[key] = value;
        student.SetMetadata(new Dictionary<string, string>(student.Metadata, StringComparer.Ordinal) { [TinyVlmStudent.TrainingKey] = settings.ToJsonString() });
    }

    /// <summary>A copy of every weight and buffer of <paramref name="model"/>, by name.</summary>
    public static IReadOnlyDictionary<string, (int[] Shape, float[] Data)> StateOf(Module model) =>
        model.StateDict().ToDictionary(e => e.Name, e => (e.Tensor.Shape.ToArray(), e.Tensor.ToArray()), StringComparer.Ordinal);

    /// <summary>
    /// Moves every weight and buffer of <paramref name="model"/> to <c>(1 - keep) * current + keep * start</c>;
    /// <paramref name="start"/> must hold the same names and shapes (a state of the same architecture).
    /// </summary>
    public static void Interpolate(Module model, IReadOnlyDictionary<string, (int[] Shape, float[] Data)> start, double keep)
    {
        if (keep is < 0 or > 1 || double.IsNaN(keep)) throw new ArgumentOutOfRangeException(nameof(keep), keep, "the share kept of the starting weights must be between 0 and 1.");
        // StateOf copies, so the copy is mixed in place and loaded back.
        var mixed = StateOf(model);
        foreach (var (name, (shape, data)) in mixed)
        {
            if (!start.TryGetValue(name, out var from) || !from.Shape.SequenceEqual(shape))
                throw new ArgumentException($"The starting state has no tensor '{name}' of shape [{string.Join(", ", shape)}]; interpolate between checkpoints of one architecture.", nameof(start));
            for (int i = 0; i < data.Length; i++) data[i] = (float)((1 - keep) * data[i] + keep * from.Data[i]);
        }
        model.LoadStateDict(mixed, "interpolated state");
    }

    /// <summary>Evaluates in reasoning mode (the mode failures are collected in) on the test examples.</summary>
    public static EvaluationReport Evaluate(TinyVlmStudent student, IReadOnlyList<StudentExample> test, string name, IProgress<int>? progress = null) =>
        StudentEvaluator.Evaluate(student, test, AnswerMode.Reasoning, name, "test", null, progress);

    /// <summary>Compares two reports per skill; the new model is promoted only when its overall accuracy is higher.</summary>
    public static Measurement Compare(EvaluationReport before, EvaluationReport after)
    {
        var b = before.PerSkill.ToDictionary(kv => kv.Key, kv => kv.Value.Accuracy, StringComparer.Ordinal);
        var a = after.PerSkill.ToDictionary(kv => kv.Key, kv => kv.Value.Accuracy, StringComparer.Ordinal);
        string? worst = null;
        double drop = 0;
        foreach (var key in b.Keys.Order(StringComparer.Ordinal))
        {
            double d = b[key] - a.GetValueOrDefault(key);
            if (d > drop) (worst, drop) = (key, d);
        }
        return new Measurement(before.OverallAccuracy, after.OverallAccuracy, b, a, after.OverallAccuracy > before.OverallAccuracy, worst, Math.Round(drop, 6));
    }

    /// <summary>SHA-256 prefix naming a checkpoint's bytes.</summary>
    public static string Version(byte[] checkpoint) => "tinyvlm-" + StableHash.Hex(Convert.ToBase64String(checkpoint))[..16];
}
