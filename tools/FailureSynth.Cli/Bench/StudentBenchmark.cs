using System.Diagnostics;
using System.Text.Json.Serialization;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Model;
using FailureSynth.TinyVlm.Reference;
using FailureSynth.TinyVlm.Training;
using FailureSynth.TinyVlm.Vocabulary;
using FailureSynth.World;

namespace FailureSynth.Cli.Bench;

/// <summary>GEMM throughput of both backends on one square size.</summary>
public sealed record GemmMeasurement(
    [property: JsonPropertyName("size")] int Size,
    [property: JsonPropertyName("gflops_ours")] double GflopsOurs,
    [property: JsonPropertyName("gflops_openblas")] double? GflopsOpenBlas);

/// <summary>The figures of <c>bench student</c>, written as bench.json.</summary>
public sealed record StudentBenchReport(
    [property: JsonPropertyName("benchmark")] string Benchmark,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("batch_images")] int BatchImages,
    [property: JsonPropertyName("batch_questions")] int BatchQuestions,
    [property: JsonPropertyName("parameters")] long Parameters,
    [property: JsonPropertyName("repeats")] int Repeats,
    [property: JsonPropertyName("train_step_ms_ours")] double TrainStepMsOurs,
    [property: JsonPropertyName("train_step_ms_torch")] double TrainStepMsTorch,
    [property: JsonPropertyName("ratio")] double Ratio,
    [property: JsonPropertyName("infer_samples_per_s_ours")] double InferSamplesPerSecondOurs,
    [property: JsonPropertyName("infer_samples_per_s_torch")] double InferSamplesPerSecondTorch,
    [property: JsonPropertyName("gemm_size")] int GemmSize,
    [property: JsonPropertyName("gemm_gflops_ours")] double GemmGflopsOurs,
    [property: JsonPropertyName("gemm_gflops_openblas")] double? GemmGflopsOpenBlas,
    [property: JsonPropertyName("gemm")] IReadOnlyList<GemmMeasurement> Gemm,
    [property: JsonPropertyName("parity_max_abs_diff")] double ParityMaxAbsDiff,
    [property: JsonPropertyName("engine_gemm")] string EngineGemm,
    [property: JsonPropertyName("torch_version")] string TorchVersion,
    [property: JsonPropertyName("torch_threads")] int TorchThreads,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("processor_count")] int ProcessorCount,
    [property: JsonPropertyName("runtime")] string Runtime,
    [property: JsonPropertyName("train_step_ms_torchsharp")] double? TrainStepMsTorchSharp = null,
    [property: JsonPropertyName("infer_samples_per_s_torchsharp")] double? InferSamplesPerSecondTorchSharp = null,
    [property: JsonPropertyName("parity_torchsharp_max_abs_diff")] double? ParityTorchSharpMaxAbsDiff = null,
    [property: JsonPropertyName("torchsharp_device")] string? TorchSharpDevice = null,
    [property: JsonPropertyName("serve_requests")] string? ServeRequests = null,
    [property: JsonPropertyName("serve_ms_unbatched_managed")] double? ServeMsUnbatchedManaged = null,
    [property: JsonPropertyName("serve_ms_batched_managed")] double? ServeMsBatchedManaged = null,
    [property: JsonPropertyName("serve_ms_unbatched_torchsharp")] double? ServeMsUnbatchedTorchSharp = null,
    [property: JsonPropertyName("serve_ms_batched_torchsharp")] double? ServeMsBatchedTorchSharp = null);

/// <summary>
/// Compares our engine with the PyTorch reference on TinyVLM: one training step (forward, backward, AdamW)
/// on a batch of 64 ShapesWorld images with all their questions, inference on the same images, logit
/// parity from one checkpoint, and GEMM throughput of the engine's own kernel against OpenBLAS. Both
/// sides use the same thread count and report medians over repeated runs after a warm-up.
/// </summary>
public static class StudentBenchmark
{
    private const int BatchImages = 64;
    private const int Warmup = 3;
    private static readonly int[] GemmSizes = [256, 512, 1024];

    /// <summary>
    /// Runs the benchmark. With <paramref name="torchSharpDevice"/> set, TinyVLM on TorchSharp is measured too, on that device
    /// (auto, cpu or cuda), with the same checkpoint, inputs, thread count and repeats; its parity is against PyTorch.
    /// </summary>
    public static StudentBenchReport Run(string outDirectory, int threads, int repeats, string? modelPath, Action<string> log, string? torchSharpDevice = null)
    {
        var root = TorchReference.FindRepositoryRoot(AppContext.BaseDirectory) ?? TorchReference.FindRepositoryRoot(Environment.CurrentDirectory)
                   ?? throw new DirectoryNotFoundException("bench student needs the FailureSynth checkout (for bench/torch/tinyvlm_bench.py); run it from the repository.");
        var torchVersion = TorchReference.CheckAvailable();
        var context = StudentCompute.CreateContext(threads);
        var generator = new WorldGenerator(Profiles.BaseSkewed);
        var examples = Enumerable.Range(0, BatchImages).Select(i => StudentExample.FromWorldSample(generator.Generate(2026, i))).ToList();
        var student = modelPath is not null
            ? TinyVlmStudent.Load(modelPath, context)
            : TinyVlmStudent.Create(context, TokenVocabulary.Build(examples.SelectMany(e => e.Steps.Select(s => s.Question).Prepend(e.Question))), 1);
        var checkpoint = Path.Combine(outDirectory, "bench_student.safetensors");
        var inputsPath = Path.Combine(outDirectory, "bench_inputs.safetensors");
        student.Save(checkpoint);
        var inputs = ModelInputs.FromExamples(student, examples);
        inputs.Write(inputsPath);
        log($"Batch: {BatchImages} images, {inputs.Questions.Count} questions; {student.Model.ParameterCount()} parameters; {threads} thread(s); engine GEMM {context.Gemm.Name}.");

        // Parity first: timing below trains the weights away from the saved checkpoint.
        var ours = inputs.Logits(student.Model);
        log($"Timing {ServeRequests} concurrent reasoning requests, one pass each and batched (managed)...");
        var serveManaged = Serve(student, examples, repeats);
        TorchSharpFigures? torchSharp = null;
        if (torchSharpDevice is not null)
        {
            var engine = new FailureSynth.TinyVlm.Torch.TorchStudentEngine(torchSharpDevice, threads);
            log($"Timing TorchSharp on {engine.Device} (libtorch, {threads} thread(s))...");
            var logits = engine.Logits(student.Model, inputs);
            var infer = Median(Time(repeats, () => engine.Infer(student.Model, inputs)));
            var step = engine.TrainStep(student.Model, inputs, 3e-3f);
            var train = Median(Time(repeats, step.Run));
            step.Dispose();
            log($"Timing {ServeRequests} concurrent reasoning requests, one pass each and batched (TorchSharp)...");
            student.Engine = engine;
            var serve = Serve(student, examples, repeats);
            student.Engine = FailureSynth.TinyVlm.Engines.ManagedStudentEngine.Instance;
            torchSharp = new TorchSharpFigures(logits, train, BatchImages / (infer / 1000.0), engine.Device, serve);
        }

        log("Timing inference (ours)...");
        var inferMs = Median(Time(repeats, () => Infer(student.Model, inputs)));
        log("Timing training steps (ours)...");
        var trainMs = Median(Time(repeats, TrainStep(student.Model, inputs)));

        log("Timing GEMM...");
        var gemm = GemmSizes.Select(size => MeasureGemm(size, threads, repeats)).ToList();

        log($"Running the PyTorch reference (torch {torchVersion})...");
        var torch = TorchReference.Run(root, checkpoint, inputsPath, threads, trainRepeats: repeats, inferRepeats: repeats);
        var parity = ours.Zip(torch.Logits).Max(p => (double)Math.Abs(p.First - p.Second));
        if (ours.Length != torch.Logits.Length)
            throw new InvalidOperationException($"The PyTorch reference returned {torch.Logits.Length} logits, ours {ours.Length}.");
        var torchTrainMs = Median(torch.TrainStepMs);
        double? torchSharpParity = torchSharp is null ? null : torchSharp.Logits.Zip(torch.Logits).Max(p => (double)Math.Abs(p.First - p.Second));
        var headline = gemm[^1];
        return new StudentBenchReport(
            "tinyvlm-student",
            threads,
            BatchImages,
            inputs.Questions.Count,
            student.Model.ParameterCount(),
            repeats,
            Math.Round(trainMs, 3),
            Math.Round(torchTrainMs, 3),
            Math.Round(trainMs / torchTrainMs, 4),
            Math.Round(BatchImages / (inferMs / 1000.0), 1),
            Math.Round(torch.InferSamplesPerSecond ?? 0, 1),
            headline.Size,
            headline.GflopsOurs,
            headline.GflopsOpenBlas,
            gemm,
            parity,
            context.Gemm.Name,
            torch.TorchVersion,
            torch.Threads,
            modelPath is null ? "fresh (seed 1)" : Path.GetFileName(modelPath),
            Environment.ProcessorCount,
            System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            torchSharp is null ? null : Math.Round(torchSharp.TrainStepMs, 3),
            torchSharp is null ? null : Math.Round(torchSharp.InferSamplesPerSecond, 1),
            torchSharpParity,
            torchSharp?.Device,
            $"{ServeRequests} x {BatchImages / ServeRequests} images, reasoning mode",
            Math.Round(serveManaged.Unbatched, 3),
            Math.Round(serveManaged.Batched, 3),
            torchSharp is null ? null : Math.Round(torchSharp.Serve.Unbatched, 3),
            torchSharp is null ? null : Math.Round(torchSharp.Serve.Batched, 3));
    }

    private const int ServeRequests = 8;

    /// <summary>
    /// The Student service's load: <see cref="ServeRequests"/> requests for the same model at once. Unbatched, each runs its own
    /// passes one after another (as the service did before batching); batched, <see cref="StudentAnswerBatcher"/> merges them.
    /// Medians in milliseconds for answering all of them.
    /// </summary>
    private static (double Unbatched, double Batched) Serve(TinyVlmStudent student, IReadOnlyList<StudentExample> examples, int repeats)
    {
        var requests = examples.Chunk(examples.Count / ServeRequests).Select(c => (IReadOnlyList<StudentExample>)c).ToList();
        var unbatched = Median(Time(repeats, () =>
        {
            foreach (var request in requests) student.AnswerAll(request, FailureSynth.TinyVlm.Inference.AnswerMode.Reasoning);
        }));
        var batched = Median(Time(repeats, () =>
        {
            var batcher = new FailureSynth.TinyVlm.Inference.StudentAnswerBatcher(student);
            Task.WaitAll([.. requests.Select(r => batcher.AnswerAsync(r, FailureSynth.TinyVlm.Inference.AnswerMode.Reasoning))]);
        }));
        return (unbatched, batched);
    }

    private sealed record TorchSharpFigures(float[] Logits, double TrainStepMs, double InferSamplesPerSecond, string Device, (double Unbatched, double Batched) Serve);

    /// <summary>One direct question per image, no gradients: what answering a dataset costs.</summary>
    private static void Infer(TinyVlmModel model, ModelInputs inputs)
    {
        var context = model.Context;
        var first = new int[inputs.ImageCount];
        var seen = new bool[inputs.ImageCount];
        for (var q = 0; q < inputs.ImageOfQuestion.Length; q++)
        {
            var image = inputs.ImageOfQuestion[q];
            if (seen[image]) continue;
            seen[image] = true;
            first[image] = q;
        }

        var length = inputs.Questions.Length;
        var ids = new int[inputs.ImageCount * length];
        var valid = new bool[inputs.ImageCount * length];
        for (var i = 0; i < first.Length; i++)
        {
            Array.Copy(inputs.Questions.TokenIds, first[i] * length, ids, i * length, length);
            Array.Copy(inputs.Questions.Valid, first[i] * length, valid, i * length, length);
        }

        model.Eval();
        using var noGrad = context.NoGrad();
        using var scope = context.RecyclingScope();
        var features = model.EncodeImages(context.FromArray(inputs.Images, inputs.ImageCount, 3, inputs.ImageSize, inputs.ImageSize));
        _ = model.AnswerLogits(features, null, new QuestionBatch(ids, length, valid)).ToArray();
    }

    /// <summary>Forward, backward and AdamW on the whole batch, as PyTorch's reference step does it.</summary>
    private static Action TrainStep(TinyVlmModel model, ModelInputs inputs)
    {
        var context = model.Context;
        var optimizer = new AdamW(model.Parameters(), new AdamWOptions(3e-3f, WeightDecay: 0.01f));
        model.Train();
        return () =>
        {
            using (context.RecyclingScope())
            {
                optimizer.ZeroGrad();
                var features = model.EncodeImages(context.FromArray(inputs.Images, inputs.ImageCount, 3, inputs.ImageSize, inputs.ImageSize));
                var loss = model.AnswerLogits(features, inputs.ImageOfQuestion, inputs.Questions).CrossEntropy(inputs.Targets);
                loss.Backward();
            }

            optimizer.Step();
        };
    }

    private static GemmMeasurement MeasureGemm(int size, int threads, int repeats)
    {
        var rng = new SplitMix64(9);
        var a = new float[size * size];
        var b = new float[size * size];
        var c = new float[size * size];
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = rng.NextUniform(-1f, 1f);
            b[i] = rng.NextUniform(-1f, 1f);
        }

        double Gflops(IGemm gemm) => 2.0 * size * size * size / (Median(Time(repeats, () => gemm.Sgemm(false, false, size, size, size, 1f, a, size, b, size, 0f, c, size))) / 1000.0) / 1e9;
        var ours = Gflops(new ManagedGemm(threads));
        double? openBlas = OpenBlasGemm.TryCreate(threads, out var native, out _) ? Gflops(native) : null;
        return new GemmMeasurement(size, Math.Round(ours, 2), openBlas is { } v ? Math.Round(v, 2) : null);
    }

    private static List<double> Time(int repeats, Action action)
    {
        for (var i = 0; i < Warmup; i++) action();
        var times = new List<double>(repeats);
        for (var i = 0; i < repeats; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            action();
            times.Add(stopwatch.Elapsed.TotalMilliseconds);
        }

        return times;
    }

    private static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new InvalidOperationException("No timings were taken.");
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
