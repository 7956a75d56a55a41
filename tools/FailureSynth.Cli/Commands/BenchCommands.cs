using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FailureSynth.Cli.Bench;

namespace FailureSynth.Cli.Commands;

/// <summary><c>failuresynth bench …</c>: benchmarks that report what they measured on this machine.</summary>
public static class BenchCommands
{
    public static Command Create() => new("bench", "Benchmarks; each writes bench.json with the figures measured on this machine.")
    {
        CreateWorld(),
        CreateStudent(),
    };

    private static Command CreateWorld()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for bench.json (and scratch datasets, removed afterwards).", Required = true };
        var count = new Option<int>("--count") { Description = "Samples per measured run.", DefaultValueFactory = _ => 10_000 };
        var repeats = new Option<int>("--repeats") { Description = "Runs per configuration; the best is reported.", DefaultValueFactory = _ => 3 };
        var command = new Command("world", "ShapesWorld generation throughput (samples/s), one thread and all cores, in memory and to disk.")
        {
            output, count, repeats,
        };
        command.SetAction(parse => CliErrors.Guard(() =>
        {
            int n = parse.GetValue(count), r = parse.GetValue(repeats);
            if (n < 100) throw new ArgumentException($"--count must be at least 100 (got {n}).");
            if (r < 1) throw new ArgumentException($"--repeats must be at least 1 (got {r}).");
            string dir = parse.GetValue(output)!.FullName;
            Directory.CreateDirectory(dir);
            Console.WriteLine($"Measuring generation of {n} base-skewed samples, best of {r}, on {Environment.ProcessorCount} cores...");
            var runs = GenerationBenchmark.Run("base-skewed", n, r, Path.Combine(dir, "scratch"));
            Directory.Delete(Path.Combine(dir, "scratch"), recursive: true);
            var report = new
            {
                benchmark = "world-generation",
                profile = "base-skewed",
                image_size = 64,
                processor_count = Environment.ProcessorCount,
                runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
                runs,
            };
            string path = Path.Combine(dir, "bench.json");
            File.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            foreach (var run in runs)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {run.Stage,-10} {run.Threads} thread(s): {run.SamplesPerSecond,8:F0} samples/s"));
            Console.WriteLine($"Wrote {path}");
            return 0;
        }));
        return command;
    }
    private static Command CreateStudent()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for bench.json (and the checkpoint and inputs both engines ran on).", Required = true };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per measurement, after a warm-up; medians are reported.", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "Threads for both engines; 0 uses every core.", DefaultValueFactory = _ => 0 };
        var model = new Option<FileInfo?>("--model") { Description = "Student checkpoint to run (default: a freshly initialised TinyVLM)." };
        var engine = new Option<string>("--engine") { Description = "Our engines to time beside PyTorch: all (managed and torchsharp), managed or torchsharp (the managed figures are always taken: they are the reference of the ratios).", DefaultValueFactory = _ => "all" };
        engine.AcceptOnlyFromAmong("all", "managed", "torchsharp");
        var device = StudentCommands.DeviceOption();
        var command = new Command("student", "TinyVLM on our engine and on TorchSharp against the PyTorch reference: training step, inference, GEMM, logit parity.")
        {
            output, repeats, threads, model, engine, device,
        };
        command.SetAction(parse => CliErrors.Guard(() =>
        {
            int r = parse.GetValue(repeats), t = parse.GetValue(threads);
            if (r < 1) throw new ArgumentException($"--repeats must be at least 1 (got {r}).");
            if (t < 0) throw new ArgumentException($"--threads must be 0 (every core) or more (got {t}).");
            string dir = parse.GetValue(output)!.FullName;
            Directory.CreateDirectory(dir);
            StudentBenchReport report;
            try
            {
                report = StudentBenchmark.Run(dir, t == 0 ? Environment.ProcessorCount : t, r, parse.GetValue(model)?.FullName, Console.WriteLine,
                    parse.GetValue(engine) == "managed" ? null : parse.GetValue(device));
            }
            catch (InvalidOperationException e) when (e.Message.StartsWith("PyTorch reference", StringComparison.Ordinal))
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }

            string path = Path.Combine(dir, "bench.json");
            File.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }) + "\n");
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(inv, $"  train step: ours {report.TrainStepMsOurs:F1} ms, torch {report.TrainStepMsTorch:F1} ms, ratio {report.Ratio:F2}"));
            Console.WriteLine(string.Create(inv, $"  inference: ours {report.InferSamplesPerSecondOurs:F0} samples/s, torch {report.InferSamplesPerSecondTorch:F0} samples/s"));
            Console.WriteLine(string.Create(inv, $"  GEMM {report.GemmSize}^3: ours {report.GemmGflopsOurs:F1} GFLOP/s, OpenBLAS {report.GemmGflopsOpenBlas?.ToString("F1", inv) ?? "n/a"} GFLOP/s"));
            Console.WriteLine(string.Create(inv, $"  parity: max |ours - torch| = {report.ParityMaxAbsDiff:E2}"));
            Console.WriteLine(string.Create(inv, $"  serving {report.ServeRequests}: managed {report.ServeMsUnbatchedManaged:F0} ms one pass each, {report.ServeMsBatchedManaged:F0} ms batched"));
            if (report.ServeMsUnbatchedTorchSharp is { } tsServe)
                Console.WriteLine(string.Create(inv, $"  serving {report.ServeRequests}: TorchSharp {tsServe:F0} ms one pass each, {report.ServeMsBatchedTorchSharp:F0} ms batched"));
            if (report.TrainStepMsTorchSharp is { } tsTrain)
            {
                Console.WriteLine(string.Create(inv, $"  TorchSharp ({report.TorchSharpDevice}): train step {tsTrain:F1} ms, inference {report.InferSamplesPerSecondTorchSharp:F0} samples/s, max |torchsharp - torch| = {report.ParityTorchSharpMaxAbsDiff:E2}"));
            }
            Console.WriteLine($"Wrote {path}");
            return 0;
        }));
        return command;
    }
}
