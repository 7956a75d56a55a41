using System.CommandLine;
using System.Globalization;
using FailureSynth.Datasets;
using FailureSynth.Reporting;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Engines;
using FailureSynth.TinyVlm.Evaluation;
using FailureSynth.TinyVlm.Inference;
using FailureSynth.TinyVlm.Training;
using FailureSynth.TinyVlm.Vocabulary;
using Spectre.Console;

namespace FailureSynth.Cli.Commands;

/// <summary><c>failuresynth student …</c>: train and evaluate TinyVLM, the embedded student model.</summary>
public static class StudentCommands
{
    public static Command Create() => new("student", "TinyVLM, the embedded student: train it on a dataset and evaluate it per skill.")
    {
        CreateTrain(),
        CreateEval(),
        CreateCompare(),
    };

    private static Command CreateTrain()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "Training dataset folder (e.g. from `world generate`).", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "Checkpoint to write (safetensors).", Required = true };
        var steps = new Option<int>("--steps") { Description = "Optimiser steps (each: --batch images and all their questions).", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed for initialisation and batch order: same seed and threads give identical checkpoint bytes.", DefaultValueFactory = _ => 1 };
        var init = new Option<FileInfo?>("--init") { Description = "Start from this checkpoint (its vocabularies and architecture) instead of fresh weights." };
        var lora = new Option<int?>("--lora") { Description = "Train rank-R LoRA adapters on the --init weights (frozen), merged into the saved checkpoint." };
        var batch = new Option<int>("--batch") { Description = "Images per step.", DefaultValueFactory = _ => 64 };
        var learningRate = new Option<float>("--lr") { Description = "Peak learning rate (warm-up, then cosine decay).", DefaultValueFactory = _ => TrainingOptions.DefaultLearningRate };
        var warmup = new Option<int>("--warmup") { Description = "Steps of linear learning-rate warm-up (at most a quarter of --steps).", DefaultValueFactory = _ => 50 };
        var finalDivisor = new Option<float>("--final-lr-divisor") { Description = "The cosine decay ends at the peak learning rate divided by this.", DefaultValueFactory = _ => 10f };
        var sceneWeight = new Option<float>("--scene-weight") { Description = "Weight of the scene term: samples with a ShapesWorld scene in their provenance also teach the image encoder each object's place, shape, colour and size (0 = off).", DefaultValueFactory = _ => TrainingOptions.DefaultSceneWeight };
        var probeWarmup = new Option<int?>("--probe-warmup") { Description = $"Steps that fit the fresh scene probe on the starting weights' features before training. [default: {TrainingOptions.FineTuneSceneProbeWarmup} with --init, else 0]" };
        var threads = new Option<int>("--threads") { Description = "Compute threads; 0 uses every core.", DefaultValueFactory = _ => 0 };
        var gemm = GemmOption();
        var engine = EngineOption();
        var device = DeviceOption();
        var command = new Command("train", "Train TinyVLM on a dataset's questions and their reasoning steps; shows loss, samples/s and ETA.")
        {
            data, output, steps, seed, init, lora, batch, learningRate, warmup, finalDivisor, sceneWeight, probeWarmup, threads, gemm, engine, device,
        };
        command.SetAction(async (parse, cancellationToken) => await CliErrors.GuardAsync(async () =>
        {
            var dataDir = parse.GetValue(data)!.FullName;
            var outPath = parse.GetValue(output)!.FullName;
            var initPath = parse.GetValue(init)?.FullName;
            var loraRank = parse.GetValue(lora);
            if (loraRank is not null && initPath is null)
                throw new ArgumentException("--lora adapts an existing student; pass the checkpoint to adapt with --init.");
            var seedValue = parse.GetValue(seed);
            if (seedValue < 0) throw new ArgumentException($"--seed must be zero or more (got {seedValue}).");
            var options = new TrainingOptions(parse.GetValue(steps), (ulong)seedValue, parse.GetValue(batch), parse.GetValue(learningRate), parse.GetValue(warmup), LoraRank: loraRank,
                FinalLearningRateDivisor: parse.GetValue(finalDivisor), SceneWeight: parse.GetValue(sceneWeight),
                SceneProbeWarmup: parse.GetValue(probeWarmup) ?? (initPath is null ? 0 : TrainingOptions.FineTuneSceneProbeWarmup));
            options.Validate();
            var context = StudentCompute.CreateContext(Threads(parse.GetValue(threads)), parse.GetValue(gemm)!);
            var studentEngine = StudentEngines.Create(parse.GetValue(engine)!, parse.GetValue(device)!, context.Threads);
            if (loraRank is not null && studentEngine.Name != StudentEngines.Managed)
                throw new ArgumentException("--lora runs on the managed engine only; drop --engine torchsharp for a LoRA run.");
            var wall = System.Diagnostics.Stopwatch.StartNew();

            var initial = initPath is not null ? TinyVlmStudent.Load(initPath, context) : null;
            Console.WriteLine($"Loading {dataDir} ...");
            var examples = StudentExamples.Load(dataDir, initial?.Model.Config.ImageSize ?? FailureSynth.World.Rendering.SceneRasterizer.DefaultSize, context.Threads);
            // A fresh student's question vocabulary comes from the training questions, sorted, so it is deterministic.
            var student = initial ?? TinyVlmStudent.Create(context, TokenVocabulary.Build(examples.SelectMany(e => e.Steps.Select(s => s.Question).Prepend(e.Question))), options.Seed);
            student.Engine = studentEngine;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{examples.Count} samples, {student.Model.ParameterCount()} parameters, {context.Threads} thread(s), engine: {EngineText(studentEngine, context)}"));

            var result = await RunWithProgress(options.Steps, progress =>
                Task.Run(() => StudentTrainer.Train(student, examples, options, progress, cancellationToken), cancellationToken));

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (File.Exists(Path.Combine(dataDir, DatasetLayout.ManifestFile)))
                metadata[Checkpoint.TrainingManifestHashKey] = DatasetManifest.Read(dataDir).DatasetSha256;
            if (initPath is not null) metadata["init"] = Path.GetFileName(initPath);
            student.Save(outPath, metadata);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Trained {result.Steps} steps in {result.Elapsed.TotalSeconds:F1} s ({result.SamplesPerSecond:F0} samples/s, {result.QuestionsPerSecond:F0} questions/s), final loss {result.FinalLoss:F4}{(result.FinalSceneLoss is { } scene ? $" (scene term {scene:F4})" : "")}; wall time {wall.Elapsed.TotalSeconds:F1} s."));
            Console.WriteLine($"Wrote {outPath}");
            return 0;
        }));
        return command;
    }

    private static Command CreateEval()
    {
        var model = new Option<FileInfo>("--model") { Description = "Student checkpoint (from `student train`).", Required = true };
        var data = new Option<DirectoryInfo>("--data") { Description = "Evaluation dataset folder.", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "Report to write (JSON).", Required = true };
        var mode = new Option<string>("--mode") { Description = "direct (whole question) or reasoning (step by step, composed).", DefaultValueFactory = _ => "direct" };
        mode.AcceptOnlyFromAmong("direct", "reasoning");
        var threads = new Option<int>("--threads") { Description = "Compute threads; 0 uses every core.", DefaultValueFactory = _ => 0 };
        var gemm = GemmOption();
        var engine = EngineOption();
        var device = DeviceOption();
        var command = new Command("eval", "Evaluate a student: overall accuracy, per skill, per family and answer confusions, as report.json.")
        {
            model, data, output, mode, threads, gemm, engine, device,
        };
        command.SetAction(async (parse, cancellationToken) => await CliErrors.GuardAsync(async () =>
        {
            var modelPath = parse.GetValue(model)!.FullName;
            var dataDir = parse.GetValue(data)!.FullName;
            var outPath = parse.GetValue(output)!.FullName;
            var answerMode = parse.GetValue(mode) == "reasoning" ? AnswerMode.Reasoning : AnswerMode.Direct;
            var context = StudentCompute.CreateContext(Threads(parse.GetValue(threads)), parse.GetValue(gemm)!);
            var studentEngine = StudentEngines.Create(parse.GetValue(engine)!, parse.GetValue(device)!, context.Threads);
            var student = TinyVlmStudent.Load(modelPath, context);
            student.Engine = studentEngine;
            Console.WriteLine($"Engine: {EngineText(studentEngine, context)}");
            var examples = StudentExamples.Load(dataDir, student.Model.Config.ImageSize, context.Threads);
            string? sha = File.Exists(Path.Combine(dataDir, DatasetLayout.ManifestFile)) ? DatasetManifest.Read(dataDir).DatasetSha256 : null;
            var report = await Terminal.ProgressDisplay.RunAsync($"Evaluating {examples.Count} questions ({parse.GetValue(mode)})", examples.Count,
                progress => Task.Run(() => StudentEvaluator.Evaluate(student, examples, answerMode, Path.GetFileName(modelPath), dataDir, sha, progress), cancellationToken));
            var directory = Path.GetDirectoryName(outPath);
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            File.WriteAllText(outPath, report.ToJson() + "\n");
            PrintSummary(report);
            Console.WriteLine($"Wrote {outPath}");
            return 0;
        }));
        return command;
    }

    private static Command CreateCompare()
    {
        var before = new Option<FileInfo>("--before") { Description = "Evaluation report of the earlier student (from `student eval`).", Required = true };
        var after = new Option<FileInfo>("--after") { Description = "Evaluation report of the later student, on the same data and in the same mode.", Required = true };
        var data = new Option<DirectoryInfo>("--data") { Description = "The dataset both reports evaluated (its skills and reasoning steps are read; images are not).", Required = true };
        var threshold = new Option<double>("--threshold") { Description = "Show the skills that fell by more than this many points.", DefaultValueFactory = _ => 2.0 };
        var output = new Option<FileInfo?>("--out") { Description = "Also write the whole comparison (every skill) as JSON here." };
        var command = new Command("compare", "Compare two evaluations question by question: per skill, the answers lost and gained, and the first reasoning step the lost ones now get wrong.")
        {
            before, after, data, threshold, output,
        };
        command.SetAction(parse => CliErrors.Guard(() =>
        {
            var limit = parse.GetValue(threshold);
            if (!(limit >= 0) || !double.IsFinite(limit)) throw new ArgumentException($"--threshold must be a number of points >= 0 (got {limit.ToString(CultureInfo.InvariantCulture)}).");
            var dataDir = parse.GetValue(data)!.FullName;
            if (!Directory.Exists(dataDir) && !File.Exists(dataDir))
                throw new DirectoryNotFoundException($"Dataset '{dataDir}' does not exist.");
            var beforeReport = EvaluationReportFile.Read(parse.GetValue(before)!.FullName);
            var afterReport = EvaluationReportFile.Read(parse.GetValue(after)!.FullName);
            var questions = DatasetReader.Load(dataDir).Samples
                .Select(s => new ComparedQuestion(s.Id, s.Skills ?? [], [.. (s.Steps ?? []).Select(step => step.Answer)]))
                .ToList();
            var comparison = ReportComparison.Compare(beforeReport, afterReport, questions);
            PrintComparison(comparison, limit);
            if (parse.GetValue(output)?.FullName is { } outPath)
            {
                var directory = Path.GetDirectoryName(outPath);
                if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
                File.WriteAllText(outPath, comparison.ToJson() + "\n");
                Console.WriteLine($"Wrote {outPath}");
            }

            return 0;
        }));
        return command;
    }

    private static void PrintComparison(ReportComparison comparison, double threshold)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv,
            $"{comparison.Questions} questions: {100 * comparison.Before:F1} % -> {100 * comparison.After:F1} % ({comparison.Lost} lost, {comparison.Gained} gained)"));
        var fallen = comparison.Skills.Where(s => -s.ChangePoints > threshold).ToList();
        if (fallen.Count == 0)
        {
            Console.WriteLine(string.Create(inv, $"No skill fell by more than {threshold:0.##} points."));
            return;
        }

        Console.WriteLine(string.Create(inv, $"{fallen.Count} skill(s) fell by more than {threshold:0.##} points:"));
        foreach (var s in fallen)
        {
            // One plain line per skill: readable in a log or a narrow terminal, where a wide table wraps.
            var steps = string.Join(", ", s.LostAtStep.Select(kv => $"{kv.Key}: {kv.Value}"));
            var instead = string.Join(", ", s.LostAnswers.Select(a => $"{a.Answer} ({a.Count})"));
            Console.WriteLine(string.Create(inv,
                $"  {s.Skill} ({s.Count} questions): {100 * s.Before:F1} % -> {100 * s.After:F1} % ({s.ChangePoints:+0.0;-0.0;0.0}); lost {s.Lost}, gained {s.Gained}; first wrong step of the lost: {steps}; answered instead: {instead}"));
        }
    }

    private static void PrintSummary(EvaluationReport report)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"Overall accuracy: {100 * report.OverallAccuracy:F1} % on {report.Samples} questions ({report.Mode})"));
        if (report.StepAccuracy is { } steps) Console.WriteLine(string.Create(inv, $"Step accuracy: {100 * steps:F1} %"));
        var families = new Table().AddColumns("family", "accuracy", "count");
        foreach (var (family, accuracy) in report.PerFamily)
            families.AddRow(family, (100 * accuracy.Accuracy).ToString("F1", inv) + " %", accuracy.Count.ToString(inv));
        AnsiConsole.Write(families);
        var weakest = report.PerSkill.Where(kv => kv.Value.Count >= 5).OrderBy(kv => kv.Value.Accuracy).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(8);
        Console.WriteLine("Weakest skills: " + string.Join(", ", weakest.Select(kv => string.Create(inv, $"{kv.Key} {100 * kv.Value.Accuracy:F0} % ({kv.Value.Count})"))));
    }

    /// <summary>The matrix-product backend option shared by train and eval.</summary>
    internal static Option<string> GemmOption()
    {
        var gemm = new Option<string>("--gemm") { Description = "Matrix-product backend: auto (engine kernel with AVX-512, else OpenBLAS), managed or openblas.", DefaultValueFactory = _ => "auto" };
        gemm.AcceptOnlyFromAmong([.. StudentCompute.GemmChoices]);
        return gemm;
    }

    /// <summary>The engine option shared by train, eval and bench student.</summary>
    internal static Option<string> EngineOption()
    {
        var engine = new Option<string>("--engine") { Description = "Where TinyVLM's arithmetic runs: managed (our engine, the CPU default) or torchsharp (libtorch; the GPU path).", DefaultValueFactory = _ => StudentEngines.Managed };
        engine.AcceptOnlyFromAmong([.. StudentEngines.Names]);
        return engine;
    }

    /// <summary>The device option shared by train, eval and bench student.</summary>
    internal static Option<string> DeviceOption()
    {
        var device = new Option<string>("--device") { Description = "auto (CUDA when the torchsharp engine sees a GPU, else the CPU), cpu or cuda (torchsharp on a build with -p:TorchSharpNative=cuda).", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong([.. StudentEngines.Devices]);
        return device;
    }

    internal static string EngineText(IStudentEngine engine, ComputeContext context) =>
        engine.Name == StudentEngines.Managed ? $"managed (GEMM: {context.Gemm.Name})" : $"{engine.Name} on {engine.Device}";

    private static int Threads(int requested)
    {
        if (requested < 0) throw new ArgumentException($"--threads must be 0 (every core) or more (got {requested}).");
        return requested == 0 ? Environment.ProcessorCount : requested;
    }

    /// <summary>Training steps through the one progress view (live line on a terminal, bounded plain lines otherwise); the note carries loss and samples/s.</summary>
    private static async Task<TrainingResult> RunWithProgress(int totalSteps, Func<IProgress<TrainingProgress>, Task<TrainingResult>> work)
    {
        using var view = StageProgressView.ForConsole();
        view.Report("training", 0, totalSteps);
        return await work(new LockedProgress(p => view.Report("training", p.Step, p.TotalSteps,
            string.Create(CultureInfo.InvariantCulture, $"loss {p.Loss:F3}, {p.SamplesPerSecond:F0} samples/s"))));
    }

    /// <summary>Reports synchronously on the training thread, so the last report is never lost.</summary>
    private sealed class LockedProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        private readonly Lock gate = new();

        public void Report(TrainingProgress value)
        {
            lock (gate) report(value);
        }
    }
}
