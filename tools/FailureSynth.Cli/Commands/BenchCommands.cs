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
}
