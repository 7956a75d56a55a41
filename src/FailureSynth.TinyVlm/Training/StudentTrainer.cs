using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm.Model;
using FailureSynth.World;

namespace FailureSynth.TinyVlm.Training;

/// <summary>Settings of one training run.</summary>
/// <param name="Steps">Optimiser steps.</param>
/// <param name="Seed">Seeds the weight initialisation (fresh students), the LoRA adapters and the batch order.</param>
/// <param name="BatchSize">Images per step; every question about them (direct and reasoning steps) is trained on.</param>
/// <param name="LearningRate">Peak AdamW learning rate (linear warm-up, cosine decay to a tenth).</param>
/// <param name="WarmupSteps">Steps of linear warm-up.</param>
/// <param name="WeightDecay">AdamW decoupled weight decay for weight matrices, kernels and batch-norm scales (none for biases, layer norms and embeddings; see <see cref="StudentTrainer.Decays"/>).</param>
/// <param name="LoraRank">When set, the loaded weights are frozen and rank-r adapters are trained, then merged.</param>
/// <param name="IncludeSteps">Whether reasoning-step questions are trained on as well as the whole questions.</param>
/// <param name="FinalLearningRateDivisor">The cosine decay ends at the peak learning rate divided by this (10: a tenth).</param>
/// <param name="DistillWeight">
/// Weight of the distillation term (a guard against forgetting when fine-tuning): on the examples marked as anchored,
/// the loss adds this times KL(starting model's answer distribution || current one), per question. 0 = off.
/// </param>
/// <param name="SceneWeight">
/// Weight of the scene term: on examples that carry their scene, the loss adds this times the cross-entropy of a
/// training-only probe that reads each feature-grid cell's object (shape or none, colour, size; see
/// <see cref="SceneTargets"/>). 0 = off. Examples without a scene add nothing; LoRA runs (which leave the image
/// encoder frozen) skip it.
/// </param>
/// <param name="SceneProbeWarmup">
/// Steps that fit the fresh scene probe alone, on the starting model's features (evaluation mode, no gradient into the
/// model), before training starts. For fine-tuning: a random probe's large first gradients would otherwise push a
/// trained encoder around (measured: one demo iteration with 200 warm-up steps 82.1 -> 87.6 %, without 85.2 %). 0 = none,
/// the right choice for a fresh student, whose features are random anyway.
/// </param>
/// <param name="FreezeNormStatistics">
/// Fine-tuning guard: batch norm normalises with the starting checkpoint's running statistics and leaves them as they
/// are (its scales and shifts still train), so a batch mix unlike the original data does not move every feature.
/// </param>
public sealed record TrainingOptions(
    int Steps,
    ulong Seed,
    int BatchSize = 64,
    float LearningRate = TrainingOptions.DefaultLearningRate,
    int WarmupSteps = 50,
    float WeightDecay = 0.01f,
    int? LoraRank = null,
    bool IncludeSteps = true,
    float DistillWeight = 0f,
    float FinalLearningRateDivisor = 10f,
    bool FreezeNormStatistics = false,
    float SceneWeight = TrainingOptions.DefaultSceneWeight,
    int SceneProbeWarmup = 0)
{
    /// <summary>
    /// Peak learning rate of a fresh student. Measured before the scene term existed, on 20k base-skewed samples, 2,150 steps,
    /// seed 1, the balanced test (3,000, seed 2), reasoning mode: 2e-3 gave 63.1 % overall, 3e-3 64.0 %, 5e-3 68.3 %,
    /// 8e-3 52.5 % (unstable); kept with the scene term.
    /// </summary>
    public const float DefaultLearningRate = 5e-3f;

    /// <summary>
    /// Weight of the scene term. Measured on 20k base-skewed samples, 2,150 steps, the balanced test (3,000, seed 2),
    /// reasoning mode: 1 took training seeds 1-4 from 68.3 / 66.1 / 63.3 / 59.7 % overall (0, no scene term) to
    /// 82.1 / 89.1 / 86.1 / 85.0 %, and the common skills from 67.9-75.9 % to 91.6-95.8 %.
    /// </summary>
    public const float DefaultSceneWeight = 1f;

    /// <summary>Scene-probe warm-up steps for fine-tuning from a trained checkpoint (see <see cref="SceneProbeWarmup"/>).</summary>
    public const int FineTuneSceneProbeWarmup = 200;

    /// <summary>Checks the settings, naming the first wrong one.</summary>
    public void Validate()
    {
        if (Steps < 1) throw new ArgumentException($"--steps must be at least 1 (got {Steps}).");
        if (BatchSize < 1) throw new ArgumentException($"--batch must be at least 1 (got {BatchSize}).");
        if (WarmupSteps < 0) throw new ArgumentException($"--warmup must be zero or more (got {WarmupSteps}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"--lr must be positive (got {LearningRate.ToString(CultureInfo.InvariantCulture)}).");
        if (LoraRank is < 1) throw new ArgumentException($"--lora must be at least 1 (got {LoraRank}).");
        if (!(FinalLearningRateDivisor >= 1f) || !float.IsFinite(FinalLearningRateDivisor)) throw new ArgumentException($"--final-lr-divisor (the final learning-rate divisor) must be a finite number >= 1 (got {FinalLearningRateDivisor.ToString(CultureInfo.InvariantCulture)}).");
        if (!(DistillWeight >= 0) || !float.IsFinite(DistillWeight)) throw new ArgumentException($"The distillation weight must be a finite number >= 0 (got {DistillWeight.ToString(CultureInfo.InvariantCulture)}).");
        if (SceneProbeWarmup < 0) throw new ArgumentException($"--probe-warmup must be zero or more (got {SceneProbeWarmup}).");
        if (!(SceneWeight >= 0) || !float.IsFinite(SceneWeight)) throw new ArgumentException($"--scene-weight (the scene term's weight) must be a finite number >= 0 (got {SceneWeight.ToString(CultureInfo.InvariantCulture)}).");
    }
}

/// <summary>Where a training run is: for progress bars.</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, float Loss, double SamplesPerSecond, TimeSpan Elapsed, TimeSpan Remaining);

/// <summary>What a training run did.</summary>
/// <param name="Steps">Optimiser steps taken.</param>
/// <param name="FinalLoss">Mean loss over the last 50 steps.</param>
/// <param name="Elapsed">Wall time of the optimisation loop.</param>
/// <param name="SamplesPerSecond">Images (samples) per second.</param>
/// <param name="QuestionsPerSecond">Question-answer pairs (direct and step questions) per second.</param>
/// <param name="TrainablePairs">Question-answer pairs in the training set.</param>
/// <param name="FinalSceneLoss">Mean scene term (unweighted, included in <paramref name="FinalLoss"/> times its weight) over the last 50 steps that had one; null when the term was off.</param>
public sealed record TrainingResult(int Steps, float FinalLoss, TimeSpan Elapsed, double SamplesPerSecond, double QuestionsPerSecond, int TrainablePairs, float? FinalSceneLoss = null);

/// <summary>
/// Trains a TinyVLM: each step takes a batch of images (in an order drawn from the seed), encodes each
/// image once, and fits every question asked about them (the whole question and each reasoning step)
/// with softmax cross-entropy and AdamW. Same seed and thread count give identical weights.
/// </summary>
public static class StudentTrainer
{
    /// <summary>
    /// Version of the training code's arithmetic. Bump it with any change that makes other weights from the same
    /// settings, data and seed (which parameters decay, the loss, the order of batches, the schedule's shape): the
    /// cache keys of base students and of experiment arm runs include it, so results of an older trainer are not
    /// taken for this one's.
    /// </summary>
    public const int RecipeVersion = 3;

    internal const int IgnoredAnswer = -100;

    /// <summary>Trains <paramref name="student"/> in place on <paramref name="examples"/>.</summary>
    /// <param name="anchored">
    /// With <see cref="TrainingOptions.DistillWeight"/> above 0: which examples (by index) keep the starting model's answer
    /// distributions as soft targets beside their labels (for example the replayed original data of a fine-tune); null = all.
    /// </param>
    public static TrainingResult Train(
        TinyVlmStudent student,
        IReadOnlyList<StudentExample> examples,
        TrainingOptions options,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default,
        IReadOnlyList<bool>? anchored = null) =>
        student.Engine.Train(student, examples, options, progress, cancellationToken, anchored);

    /// <summary>Trains on our own engine (what <see cref="Train"/> does for a student whose engine is the managed one).</summary>
    internal static TrainingResult TrainManaged(
        TinyVlmStudent student,
        IReadOnlyList<StudentExample> examples,
        TrainingOptions options,
        IProgress<TrainingProgress>? progress,
        CancellationToken cancellationToken,
        IReadOnlyList<bool>? anchored)
    {
        options.Validate();
        if (examples.Count == 0) throw new ArgumentException("The training set is empty; pass a dataset with at least one sample.", nameof(examples));
        if (anchored is not null && anchored.Count != examples.Count)
            throw new ArgumentException($"{anchored.Count} anchored flags were given for {examples.Count} examples; pass one per example.", nameof(anchored));
        var model = student.Model;
        var context = model.Context;
        var config = model.Config;
        var size = config.ImageSize;
        var plane = 3 * size * size;
        var prepared = Prepare(student, examples, options.IncludeSteps);
        // Scene targets of the examples that carry a scene; no probe at all when the term is off or no example has one.
        // LoRA trains adapters of linear layers only, never the image encoder, so it has no use for the term.
        int[]?[]? sceneTargets = options.SceneWeight > 0 && options.LoraRank is null && examples.Any(e => e.Scene is not null)
            ? [.. examples.Select(e => e.Scene is { } scene ? SceneTargets.For(scene, config.FeatureSize) : null)]
            : null;
        // Drawn from its own stream so the model's initial weights and the batch order are those of the same seed without it.
        var probe = sceneTargets is null ? null : new SceneProbe(context, model.Image.OutputChannels, SplitMix64.Derive(options.Seed, "scene-probe"));
        var pairCount = prepared.Sum(p => p.Questions.Length);
        var soft = options.DistillWeight > 0 ? StartingDistributions(model, prepared, anchored, cancellationToken) : null;

        IReadOnlyList<Tensor> trainable;
        AdamW optimizer;
        if (options.LoraRank is { } rank)
        {
            trainable = model.AttachLora(rank, 2f * rank, SplitMix64.Derive(options.Seed, "lora").NextUInt64());
            optimizer = new AdamW(trainable, new AdamWOptions(options.LearningRate, WeightDecay: 0f));
        }
        else
        {
            trainable = [.. model.Parameters()];
            var decayed = model.NamedParameters().Where(p => Decays(p.Name)).Select(p => p.Parameter).ToList();
            var plain = model.NamedParameters().Where(p => !Decays(p.Name)).Select(p => p.Parameter).ToList();
            if (probe is not null)
            {
                decayed.AddRange(probe.NamedParameters().Where(p => Decays(p.Name)).Select(p => p.Parameter));
                plain.AddRange(probe.NamedParameters().Where(p => !Decays(p.Name)).Select(p => p.Parameter));
                trainable = [.. trainable, .. probe.Parameters()];
            }

            optimizer = new AdamW([new ParameterGroup(decayed, options.WeightDecay), new ParameterGroup(plain, 0f)], new AdamWOptions(options.LearningRate));
        }

        var schedule = new WarmupCosineSchedule(options.LearningRate, Math.Min(options.WarmupSteps, options.Steps / 4), options.Steps, options.LearningRate / options.FinalLearningRateDivisor);
        var order = new BatchOrder(examples.Count, options.Seed);
        var batchSize = Math.Min(options.BatchSize, examples.Count);
        var pixels = new float[batchSize * plane];
        var recentLosses = new Queue<float>();
        var recentSceneLosses = new Queue<float>();
        var stopwatch = Stopwatch.StartNew();
        long imagesSeen = 0, pairsSeen = 0;
        // Batch norm is the only layer that trains differently; evaluation mode keeps its running statistics fixed.
        if (options.FreezeNormStatistics) model.Eval();
        else model.Train();
        if (probe is not null && options.SceneProbeWarmup > 0)
        {
            WarmUpProbe(model, probe, prepared, sceneTargets!, options, batchSize, pixels, cancellationToken);
            if (!options.FreezeNormStatistics) model.Train();
        }

        for (var step = 0; step < options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = order.Next(batchSize);
            var (imageOfQuestion, questions, targets) = Gather(prepared, batch, pixels, plane);
            var softTargets = soft is null ? null : new List<float>();
            var anyAnchored = false;
            if (softTargets is not null)
            {
                foreach (var index in batch)
                {
                    // Rows of zeros: no soft target for the questions of a non-anchored example.
                    if (soft![index] is { } distributions) { softTargets.AddRange(distributions); anyAnchored = true; }
                    else softTargets.AddRange(new float[prepared[index].Questions.Length * config.AnswerCount]);
                }
            }

            float loss;
            using (context.RecyclingScope())
            {
                optimizer.ZeroGrad();
                var features = model.EncodeImages(context.FromArray(pixels, batch.Length, 3, size, size));
                var logits = model.AnswerLogits(features, imageOfQuestion, QuestionBatch.From(questions));
                var lossTensor = logits.CrossEntropy(targets, IgnoredAnswer);
                if (probe is not null && CellTargets(sceneTargets!, batch, config.FeatureSize) is { } cells)
                {
                    var sceneLoss = probe.Loss(features, cells.Shapes, cells.Colors, cells.Sizes);
                    recentSceneLosses.Enqueue(sceneLoss.Item());
                    if (recentSceneLosses.Count > 50) recentSceneLosses.Dequeue();
                    lossTensor = lossTensor + options.SceneWeight * sceneLoss;
                }

                if (anyAnchored) lossTensor = lossTensor + options.DistillWeight * logits.KlDivergence(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(softTargets));
                loss = lossTensor.Item();
                lossTensor.Backward();
            }

            GradientClipping.ClipGradNorm(trainable, 5f);
            optimizer.LearningRate = schedule.LearningRateAt(step);
            optimizer.Step();

            imagesSeen += batch.Length;
            pairsSeen += questions.Count;
            recentLosses.Enqueue(loss);
            if (recentLosses.Count > 50) recentLosses.Dequeue();
            if (progress is not null)
            {
                var elapsed = stopwatch.Elapsed;
                var perStep = elapsed / (step + 1);
                progress.Report(new TrainingProgress(step + 1, options.Steps, recentLosses.Average(), imagesSeen / Math.Max(1e-9, elapsed.TotalSeconds), elapsed, perStep * (options.Steps - step - 1)));
            }
        }

        if (options.LoraRank is not null) model.MergeLora();
        model.Eval();
        var total = stopwatch.Elapsed;
        RecordSettings(student, options, batchSize, context.Threads, examples.Count, pairCount, probe is not null);
        return new TrainingResult(options.Steps, recentLosses.Average(), total, imagesSeen / Math.Max(1e-9, total.TotalSeconds), pairsSeen / Math.Max(1e-9, total.TotalSeconds), pairCount,
            recentSceneLosses.Count > 0 ? recentSceneLosses.Average() : null);
    }

    /// <summary>
    /// Writes the recipe a checkpoint was trained with into its metadata (<see cref="TinyVlmStudent.TrainingKey"/>); both
    /// engines' trainers call it. <paramref name="engine"/> is named only by engines other than this one, and the optional
    /// settings only when used, so checkpoints keep the bytes they had before those settings existed.
    /// </summary>
    internal static void RecordSettings(TinyVlmStudent student, TrainingOptions options, int batchSize, int threads, int examples, int pairCount,
        bool sceneProbe, (string Name, string Device)? engine = null)
    {
        var settings = new Dictionary<string, object?>
        {
            ["steps"] = options.Steps,
            ["seed"] = options.Seed,
            ["batch_size"] = batchSize,
            ["learning_rate"] = options.LearningRate,
            ["weight_decay"] = options.WeightDecay,
            ["lora_rank"] = options.LoraRank,
            ["include_steps"] = options.IncludeSteps,
            ["threads"] = threads,
            ["examples"] = examples,
            ["pairs"] = pairCount,
        };
        if (engine is { } e)
        {
            settings["engine"] = e.Name;
            settings["device"] = e.Device;
        }
        if (options.DistillWeight > 0) settings["distill_weight"] = options.DistillWeight;
        if (options.FinalLearningRateDivisor != 10f) settings["final_learning_rate_divisor"] = options.FinalLearningRateDivisor;
        if (options.FreezeNormStatistics) settings["freeze_norm_statistics"] = true;
        if (sceneProbe) settings["scene_weight"] = options.SceneWeight;
        if (sceneProbe && options.SceneProbeWarmup > 0) settings["scene_probe_warmup"] = options.SceneProbeWarmup;
        student.SetMetadata(new Dictionary<string, string>(student.Metadata, StringComparer.Ordinal)
        {
            [TinyVlmStudent.TrainingKey] = JsonSerializer.Serialize(settings),
        });
    }

    /// <summary>
    /// Whether a parameter (by its dotted name) takes weight decay: weight matrices, convolution kernels and the
    /// batch-norm scales (<c>image.bn1.weight</c>, <c>fusion.bn.weight</c>) do; biases, layer-norm parameters
    /// (<c>norm</c> in the name) and embeddings do not. The batch-norm scales are decayed because every student so
    /// far was trained that way; exempting them was measured (20k base-skewed samples, 2,150 steps, seeds 1, 3, 4)
    /// and gave 58.8 / 65.6 / 63.9 % against 68.3 / 63.3 / 59.7 % with decay: no better on average, and it would
    /// change every checkpoint.
    /// </summary>
    public static bool Decays(string name) =>
        name.EndsWith(".weight", StringComparison.Ordinal) && !name.Contains("norm", StringComparison.Ordinal) && !name.Contains("embedding", StringComparison.Ordinal);

    /// <summary>
    /// The starting model's answer distribution for every question of each anchored example (rows of
    /// <see cref="TinyVlmConfig.AnswerCount"/> probabilities), computed once before training in evaluation mode;
    /// null for examples that are not anchored.
    /// </summary>
    private static float[]?[] StartingDistributions(TinyVlmModel model, PreparedExample[] prepared, IReadOnlyList<bool>? anchored, CancellationToken cancellationToken)
    {
        var context = model.Context;
        var size = model.Config.ImageSize;
        var plane = 3 * size * size;
        var classes = model.Config.AnswerCount;
        var result = new float[]?[prepared.Length];
        int[] chosen = [.. Enumerable.Range(0, prepared.Length).Where(i => anchored is null || anchored[i])];
        const int chunk = 128;
        var pixels = new float[chunk * plane];
        model.Eval();
        using (context.NoGrad())
        {
            for (var start = 0; start < chosen.Length; start += chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var count = Math.Min(chunk, chosen.Length - start);
                var (imageOfQuestion, questions, _) = Gather(prepared, chosen.AsSpan(start, count), pixels, plane);
                using (context.RecyclingScope())
                {
                    var features = model.EncodeImages(context.FromArray(pixels.AsSpan(0, count * plane), count, 3, size, size));
                    var probabilities = model.AnswerLogits(features, imageOfQuestion, QuestionBatch.From(questions)).Softmax().ToArray();
                    var row = 0;
                    for (var i = 0; i < count; i++)
                    {
                        var n = prepared[chosen[start + i]].Questions.Length;
                        result[chosen[start + i]] = probabilities.AsSpan(row * classes, n * classes).ToArray();
                        row += n;
                    }
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Writes the images of <paramref name="prepared"/>[<paramref name="indices"/>] into <paramref name="pixels"/> (one
    /// plane block each, in order) and lists every question about them with the position of its image and its target.
    /// </summary>
    internal static (int[] ImageOfQuestion, List<int[]> Questions, int[] Targets) Gather(PreparedExample[] prepared, ReadOnlySpan<int> indices, float[] pixels, int plane)
    {
        var imageOfQuestion = new List<int>();
        var questions = new List<int[]>();
        var targets = new List<int>();
        for (var i = 0; i < indices.Length; i++)
        {
            var example = prepared[indices[i]];
            StudentExamples.WritePlanes(example.Image, pixels.AsSpan(i * plane, plane));
            for (var q = 0; q < example.Questions.Length; q++)
            {
                imageOfQuestion.Add(i);
                questions.Add(example.Questions[q]);
                targets.Add(example.Targets[q]);
            }
        }

        return ([.. imageOfQuestion], questions, [.. targets]);
    }

    /// <summary>
    /// Fits the fresh <paramref name="probe"/> alone for <see cref="TrainingOptions.SceneProbeWarmup"/> steps on the model's
    /// features of batches drawn in an order of their own (learning rate 1e-2, no weight decay): the model runs in evaluation
    /// mode without gradients, so neither its weights nor its batch-norm statistics change. Leaves the model in evaluation mode.
    /// </summary>
    private static void WarmUpProbe(TinyVlmModel model, SceneProbe probe, PreparedExample[] prepared, int[]?[] sceneTargets, TrainingOptions options,
        int batchSize, float[] pixels, CancellationToken cancellationToken)
    {
        var context = model.Context;
        var size = model.Config.ImageSize;
        var plane = 3 * size * size;
        var optimizer = new AdamW(probe.Parameters(), new AdamWOptions(1e-2f, WeightDecay: 0f));
        var order = new BatchOrder(prepared.Length, SplitMix64.Derive(options.Seed, "scene-probe-warmup").NextUInt64());
        model.Eval();
        for (var step = 0; step < options.SceneProbeWarmup; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = order.Next(batchSize);
            if (CellTargets(sceneTargets, batch, model.Config.FeatureSize) is not { } cells) continue;
            Gather(prepared, batch, pixels, plane);
            using (context.RecyclingScope())
            {
                optimizer.ZeroGrad();
                Tensor features;
                using (context.NoGrad()) features = model.EncodeImages(context.FromArray(pixels.AsSpan(0, batch.Length * plane), batch.Length, 3, size, size));
                probe.Loss(features, cells.Shapes, cells.Colors, cells.Sizes).Backward();
            }

            optimizer.Step();
        }
    }

    /// <summary>The scene targets of a batch's images (image-major, cells row-major); null when none of them has a scene.</summary>
    internal static (int[] Shapes, int[] Colors, int[] Sizes)? CellTargets(int[]?[] targets, int[] batch, int side)
    {
        var cells = side * side;
        int[] shapes = new int[batch.Length * cells], colors = new int[batch.Length * cells], sizes = new int[batch.Length * cells];
        var any = false;
        for (var i = 0; i < batch.Length; i++)
        {
            var t = targets[batch[i]];
            any |= t is not null;
            for (var c = 0; c < cells; c++)
            {
                var k = i * cells + c;
                (shapes[k], colors[k], sizes[k]) = t is null ? (SceneTargets.Ignored, SceneTargets.Ignored, SceneTargets.Ignored) : (t[3 * c], t[3 * c + 1], t[3 * c + 2]);
            }
        }

        return any ? (shapes, colors, sizes) : null;
    }

    internal sealed record PreparedExample(FailureSynth.Imaging.RgbImage Image, int[][] Questions, int[] Targets);

    internal static PreparedExample[] Prepare(TinyVlmStudent student, IReadOnlyList<StudentExample> examples, bool includeSteps)
    {
        var maxTokens = student.Model.Config.MaxTokens;
        var size = student.Model.Config.ImageSize;
        var prepared = new PreparedExample[examples.Count];
        for (var i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            if (e.Image.Width != size || e.Image.Height != size)
                throw new ArgumentException($"Example '{e.Id}' has a {e.Image.Width}x{e.Image.Height} image but the student takes {size}x{size}.", nameof(examples));
            var questions = new List<int[]> { student.Tokens.Encode(e.Question, maxTokens) };
            var targets = new List<int> { Target(student, e.Answer) };
            if (includeSteps)
            {
                foreach (var step in e.Steps)
                {
                    questions.Add(student.Tokens.Encode(step.Question, maxTokens));
                    targets.Add(Target(student, step.Answer));
                }
            }

            prepared[i] = new PreparedExample(e.Image, [.. questions], [.. targets]);
        }

        return prepared;
    }

    private static int Target(TinyVlmStudent student, string answer)
    {
        var id = student.Answers.IdOf(answer);
        return id >= 0 ? id : IgnoredAnswer;
    }

    /// <summary>Epochs of the examples, each in a fresh order drawn from the seed.</summary>
    internal sealed class BatchOrder(int count, ulong seed)
    {
        private readonly DeterministicRandom random = new(seed ^ 0x5EED_0F_BA7C4E5UL);
        private int[] order = [];
        private int position;

        public int[] Next(int size)
        {
            var batch = new int[size];
            for (var i = 0; i < size; i++)
            {
                if (position == order.Length)
                {
                    order = [.. Enumerable.Range(0, count)];
                    random.Shuffle(order);
                    position = 0;
                }

                batch[i] = order[position++];
            }

            return batch;
        }
    }
}
