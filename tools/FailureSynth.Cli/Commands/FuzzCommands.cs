using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FailureSynth.Fuzzing;

namespace FailureSynth.Cli.Commands;

/// <summary><c>failuresynth fuzz TARGET</c>: seeded mutation fuzzing of one parser (docs/security.md).</summary>
public static class FuzzCommands
{
    private static int Replay(FuzzTarget target, FileInfo file)
    {
        if (!file.Exists) throw new FileNotFoundException($"--input '{file.FullName}' does not exist.", file.FullName);
        byte[] input = File.ReadAllBytes(file.FullName);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        string outcome;
        try
        {
            target.Parse(input);
            outcome = "accepted";
        }
        catch (Exception e) when (target.IsRefusal(e))
        {
            outcome = $"refused ({e.GetType().Name}): {e.Message}";
        }
        catch (Exception e)
        {
            outcome = $"FINDING ({Fuzzer.Signature(e)}): {e.Message}";
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // VmHWM: the most resident memory the process ever had (Linux).
        string peak = File.Exists("/proc/self/status")
            ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
            : "?";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{target.Name} on {file.Name} ({input.Length} bytes): {outcome}\n  {watch.Elapsed.TotalMilliseconds:F1} ms, {allocated / 1024.0 / 1024.0:F1} MiB allocated, process peak (VmHWM) {peak}"));
        return outcome.StartsWith("FINDING", StringComparison.Ordinal) ? 2 : 0;
    }

    public static Command Create()
    {
        var target = new Argument<string>("target") { Description = $"The parser: {string.Join(", ", FuzzTargets.Names)}, or all." };
        var seed = new Option<long>("--seed") { Description = "Seed of the mutations: the same seed gives the same inputs.", DefaultValueFactory = _ => 1 };
        var inputs = new Option<long>("--inputs") { Description = "Inputs to run (per target).", DefaultValueFactory = _ => 100_000 };
        var seconds = new Option<double>("--seconds") { Description = "Stop after this many seconds (per target) even if fewer inputs ran; 0: no time limit.", DefaultValueFactory = _ => 0 };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Folder for fuzz.json and each finding's input (default: fuzz-out)." };
        var replay = new Option<FileInfo?>("--input") { Description = "Run the target once on this file (a finding's input) and report how it ended and the process's peak memory." };
        var command = new Command("fuzz", "Fuzz a parser: every input must be accepted or refused with its documented exception, in bounded time and memory.")
        {
            target, seed, inputs, seconds, output, replay,
        };
        command.SetAction(parse => CliErrors.Guard(() =>
        {
            string name = parse.GetValue(target)!;
            long n = parse.GetValue(inputs);
            double s = parse.GetValue(seconds);
            if (n < 1) throw new ArgumentException($"--inputs must be at least 1 (got {n}).");
            if (s < 0) throw new ArgumentException($"--seconds must be 0 or more (got {s}).");
            string[] names = name == "all" ? FuzzTargets.Names : [name];
            if (names.Except(FuzzTargets.Names).FirstOrDefault() is { } unknown)
                throw new ArgumentException($"unknown fuzz target '{unknown}': use one of {string.Join(", ", FuzzTargets.Names)} or all.");
            string dir = (parse.GetValue(output)?.FullName) ?? Path.GetFullPath("fuzz-out");
            if (parse.GetValue(replay) is { } replayFile)
                return Replay(new FuzzTargets(Directory.CreateTempSubdirectory("failuresynth-fuzz-").FullName).Get(names.Single()), replayFile);
            string work = Path.Combine(dir, "work");
            Directory.CreateDirectory(work);
            var targets = new FuzzTargets(work);
            var reports = new List<FuzzReport>();
            int findings = 0;
            foreach (string t in names)
            {
                var report = new Fuzzer(targets.Get(t), parse.GetValue(seed)).Run(n, s > 0 ? TimeSpan.FromSeconds(s) : TimeSpan.MaxValue, progress: Console.WriteLine);
                reports.Add(report);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{t}: seed {report.Seed}, {report.Inputs} inputs in {report.Duration.TotalSeconds:F1} s ({report.Accepted} accepted, {report.Refused} refused), " +
                    $"slowest input {report.MaxInputMilliseconds:F1} ms, most allocated {report.MaxAllocatedBytes / 1024.0 / 1024.0:F1} MiB, {report.Findings.Count} findings"));
                foreach (var (f, i) in report.Findings.Select((f, i) => (f, i)))
                {
                    string file = Path.Combine(dir, $"{t}-{f.Kind}-{i}.bin");
                    File.WriteAllBytes(file, f.Input);
                    Console.WriteLine($"  {f.Kind}: {f.Signature} ({f.Input.Length}-byte input in {file})");
                    Console.WriteLine("    " + f.Detail.Split('\n')[0]);
                    findings++;
                }
            }
            Directory.Delete(work, recursive: true);
            string json = Path.Combine(dir, "fuzz.json");
            File.WriteAllText(json, JsonSerializer.Serialize(reports.Select(r => new
            {
                target = r.Target, seed = r.Seed, inputs = r.Inputs, accepted = r.Accepted, refused = r.Refused,
                seconds = Math.Round(r.Duration.TotalSeconds, 1), slowest_input_ms = Math.Round(r.MaxInputMilliseconds, 1), most_allocated_bytes = r.MaxAllocatedBytes,
                findings = r.Findings.Select(f => new { kind = f.Kind, signature = f.Signature, detail = f.Detail.Split('\n')[0], input_bytes = f.Input.Length, input_number = f.InputNumber }),
            }), new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"Wrote {json}");
            // A hung input leaves its thread running: end the process rather than wait for it.
            return findings == 0 ? 0 : 2;
        }));
        return command;
    }
}
