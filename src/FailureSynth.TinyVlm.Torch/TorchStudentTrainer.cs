using System.Diagnostics;
using System.Text.Json;
using SplitMix64 = FailureSynth.Tensors.SplitMix64;
using WarmupCosineSchedule = FailureSynth.Tensors.WarmupCosineSchedule;
using FailureSynth.TinyVlm.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FailureSynth.TinyVlm.Torch;

/// <summary>
/// <see cref="StudentTrainer"/>'s recipe on libtorch, step for step: the same starting weights (copied from the managed
/// student, and a scene probe drawn from the same seed stream), the same batch order and gathering, loss terms, parameter
/// groups, warm-up and cosine schedule, gradient clipping at norm 5 and AdamW. Only the arithmetic differs (libtorch's
/// kernels round differently), so runs are reproducible per engine and thread count but not bit-equal across engines.
/// The trained weights are written back into the managed model, which saves the checkpoint.
/// </summary>
public static class TorchStudentTrainer
{
    /// <summary>Trains <paramref name="student"/> in place on <paramref name="engine"/>'s device (see <see cref="StudentTrainer.Train"/>).</summary>
    public static TrainingResult Train(TorchStudentEngine engine, TinyVlmStudent student, IReadOnlyList<StudentExample> examples, TrainingOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, IReadOnlyList<bool>? anchored = null)
    {
        options.Validate();
        if (options.LoraRank is not null)
            throw new NotSupportedException("LoRA adapters (--lora) are trained on the managed engine only; use --engine managed for a LoRA run.");
        if (examples.Count == 0) throw new ArgumentException("The training set is empty; pass a dataset with at least one sample.", nameof(examples));
        if (anchored is not null && anchored.Count != examples.Count)
            throw new ArgumentException($"{anchored.Count} anchored flags were given for {examples.Count} examples; pass one per example.", nameof(anchored));

        var device = engine.TorchDevice;
        var managed = student.Model;
        var config = managed.Config;
        var size = config.ImageSize;
        var plane = 3 * size * size;
        var prepared = StudentTrainer.Prepare(student, examples, options.IncludeSteps);
        int[]?[]? sceneTargets = options.SceneWeight > 0 && examples.Any(e => e.Scene is not null)
            ? [.. examples.Select(e => e.Scene is { } scene ? SceneTargets.For(scene, config.FeatureSize) : null)]
            : null;

        using var model = new TorchTinyVlm(config);
        TorchWeights.CopyFrom(model, managed);
        model.to(device);
        TorchSceneProbe? probe = null;
        if (sceneTargets is not null)
        {
            // The managed trainer's probe, drawn from the same derived stream, gives the same starting weights.
            var managedProbe = new SceneProbe(managed.Context, managed.Image.OutputChannels, SplitMix64.Derive(options.Seed, "scene-probe"));
            probe = new TorchSceneProbe(managed.Image.OutputChannels);
            TorchWeights.CopyFrom(probe, managedProbe);
            probe.to(device);
        }

        var pairCount = prepared.Sum(p => p.Questions.Length);
        var soft = options.DistillWeight > 0 ? StartingDistributions(model, prepared, anchored, config.AnswerCount, plane, size, device, cancellationToken) : null;

        var named = model.named_parameters().ToList();
        var decayed = named.Where(p => StudentTrainer.Decays(p.name)).Select(p => p.parameter).ToList();
        var plain = named.Where(p => !StudentTrainer.Decays(p.name)).Select(p => p.parameter).ToList();
        var trainable = named.Select(p => p.parameter).ToList();
        if (probe is not null)
        {
            var probeNamed = probe.named_parameters().ToList();
            decayed.AddRange(probeNamed.Where(p => StudentTrainer.Decays(p.name)).Select(p => p.parameter));
            plain.AddRange(probeNamed.Where(p => !StudentTrainer.Decays(p.name)).Select(p => p.parameter));
            trainable.AddRange(probeNamed.Select(p => p.parameter));
        }

        var optimizer = torch.optim.AdamW(
            [new AdamW.ParamGroup(decayed, new AdamW.Options { weight_decay = options.WeightDecay, LearningRate = options.LearningRate }),
             new AdamW.ParamGroup(plain, new AdamW.Options { weight_decay = 0, LearningRate = options.LearningRate })],
            lr: options.LearningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8);

        var schedule = new WarmupCosineSchedule(options.LearningRate, Math.Min(options.WarmupSteps, options.Steps / 4), options.Steps, options.LearningRate / options.FinalLearningRateDivisor);
        var order = new StudentTrainer.BatchOrder(examples.Count, options.Seed);
        var batchSize = Math.Min(options.BatchSize, examples.Count);
        var pixels = new float[batchSize * plane];
        var recentLosses = new Queue<float>();
        var recentSceneLosses = new Queue<float>();
        var stopwatch = Stopwatch.StartNew();
        long imagesSeen = 0, pairsSeen = 0;
        SetMode(model, options);
        if (probe is not null && options.SceneProbeWarmup > 0)
        {
            WarmUpProbe(model, probe, prepared, sceneTargets!, options, batchSize, pixels, plane, size, device, cancellationToken);
            SetMode(model, options);
        }

        probe?.train();
        for (var step = 0; step < options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = order.Next(batchSize);
            var (imageOfQuestion, questions, targets) = StudentTrainer.Gather(prepared, batch, pixels, plane);
            float[]? softTargets = null;
            if (soft is not null && batch.Any(i => soft[i] is not null))
            {
                var rows = new List<float>();
                // Rows of zeros: no soft target for the questions of a non-anchored example.
                foreach (var index in batch) rows.AddRange(soft[index] ?? new float[prepared[index].Questions.Length * config.AnswerCount]);
                softTargets = [.. rows];
            }

            float loss;
            using (torch.NewDisposeScope())
            {
                optimizer.zero_grad();
                var images = torch.tensor(pixels, [batch.Length, 3, size, size]).to(device);
                var features = model.forward(images);
                var (tokens, valid) = TorchInputs.Questions(Model.QuestionBatch.From(questions), device);
                var logits = model.AnswerLogits(features, TorchInputs.Indices(imageOfQuestion, device), tokens, valid);
                var lossTensor = F.cross_entropy(logits, TorchInputs.Indices(targets, device), ignore_index: StudentTrainer.IgnoredAnswer);
                if (probe is not null && StudentTrainer.CellTargets(sceneTargets!, batch, config.FeatureSize) is { } cells)
                {
                    var sceneLoss = probe.Loss(features, TorchInputs.Indices(cells.Shapes, device), TorchInputs.Indices(cells.Colors, device), TorchInputs.Indices(cells.Sizes, device));
                    recentSceneLosses.Enqueue(sceneLoss.item<float>());
                    if (recentSceneLosses.Count > 50) recentSceneLosses.Dequeue();
                    lossTensor = lossTensor + options.SceneWeight * sceneLoss;
                }

                if (softTargets is not null)
                    lossTensor = lossTensor + options.DistillWeight * KlDivergence(logits, torch.tensor(softTargets, [logits.shape[0], logits.shape[1]]).to(device));
                loss = lossTensor.item<float>();
                lossTensor.backward();
                torch.nn.utils.clip_grad_norm_(trainable, 5.0);
                var learningRate = schedule.LearningRateAt(step);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
                optimizer.step();
            }

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

        model.eval();
        TorchWeights.CopyTo(model, managed);
        managed.Eval();
        probe?.Dispose();
        var total = stopwatch.Elapsed;
        StudentTrainer.RecordSettings(student, options, batchSize, engine.Threads, examples.Count, pairCount, probe is not null, (engine.Name, engine.Device));
        return new TrainingResult(options.Steps, recentLosses.Average(), total, imagesSeen / Math.Max(1e-9, total.TotalSeconds), pairsSeen / Math.Max(1e-9, total.TotalSeconds), pairCount,
            recentSceneLosses.Count > 0 ? recentSceneLosses.Average() : null);
    }

    /// <summary>Batch norm trains its statistics unless the options freeze them (the managed trainer's rule).</summary>
    private static void SetMode(TorchTinyVlm model, TrainingOptions options)
    {
        if (options.FreezeNormStatistics) model.eval();
        else model.train();
    }

    /// <summary>Mean over rows with a target (rows of zeros have none) of KL(target || softmax(logits)), as the managed engine defines it.</summary>
    private static Tensor KlDivergence(Tensor logits, Tensor targets)
    {
        var counted = (targets.sum(1) > 0).to_type(ScalarType.Float32);
        var perRow = (torch.xlogy(targets, targets) - targets * logits.log_softmax(1)).sum(1);
        return (perRow * counted).sum() / counted.sum().clamp_min(1);
    }

    private static float[]?[] StartingDistributions(TorchTinyVlm model, StudentTrainer.PreparedExample[] prepared, IReadOnlyList<bool>? anchored, int classes, int plane, int size,
        torch.Device device, CancellationToken cancellationToken)
    {
        var result = new float[]?[prepared.Length];
        int[] chosen = [.. Enumerable.Range(0, prepared.Length).Where(i => anchored is null || anchored[i])];
        const int chunk = 128;
        var pixels = new float[chunk * plane];
        model.eval();
        using var noGrad = torch.no_grad();
        for (var start = 0; start < chosen.Length; start += chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(chunk, chosen.Length - start);
            var (imageOfQuestion, questions, _) = StudentTrainer.Gather(prepared, chosen.AsSpan(start, count), pixels, plane);
            using var scope = torch.NewDisposeScope();
            var features = model.forward(torch.tensor(pixels[..(count * plane)], [count, 3, size, size]).to(device));
            var (tokens, valid) = TorchInputs.Questions(Model.QuestionBatch.From(questions), device);
            var probabilities = model.AnswerLogits(features, TorchInputs.Indices(imageOfQuestion, device), tokens, valid).softmax(1).cpu().data<float>().ToArray();
            var row = 0;
            for (var i = 0; i < count; i++)
            {
                var n = prepared[chosen[start + i]].Questions.Length;
                result[chosen[start + i]] = probabilities.AsSpan(row * classes, n * classes).ToArray();
                row += n;
            }
        }

        return result;
    }

    private static void WarmUpProbe(TorchTinyVlm model, TorchSceneProbe probe, StudentTrainer.PreparedExample[] prepared, int[]?[] sceneTargets, TrainingOptions options,
        int batchSize, float[] pixels, int plane, int size, torch.Device device, CancellationToken cancellationToken)
    {
        var optimizer = torch.optim.AdamW(probe.parameters(), lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0);
        var order = new StudentTrainer.BatchOrder(prepared.Length, SplitMix64.Derive(options.Seed, "scene-probe-warmup").NextUInt64());
        model.eval();
        for (var step = 0; step < options.SceneProbeWarmup; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = order.Next(batchSize);
            if (StudentTrainer.CellTargets(sceneTargets, batch, model.Config.FeatureSize) is not { } cells) continue;
            StudentTrainer.Gather(prepared, batch, pixels, plane);
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            Tensor features;
            using (torch.no_grad()) features = model.forward(torch.tensor(pixels[..(batch.Length * plane)], [batch.Length, 3, size, size]).to(device));
            probe.Loss(features, TorchInputs.Indices(cells.Shapes, device), TorchInputs.Indices(cells.Colors, device), TorchInputs.Indices(cells.Sizes, device)).backward();
            optimizer.step();
        }
    }
}
