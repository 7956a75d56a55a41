using System.CommandLine;
using System.Globalization;
using FailureSynth.Cli.Terminal;
using FailureSynth.Backends;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Common;

namespace FailureSynth.Cli.Commands;

/// <summary><c>failuresynth campaign run</c>: the failure-driven loop, in-process.</summary>
public static class CampaignCommands
{
    public static Command Create() => new("campaign", "Run the failure-driven loop in-process: evaluate, locate, diagnose, prescribe, filter, train, measure.")
    {
        CreateRun(),
    };

    private static Command CreateRun()
    {
        var config = new Option<FileInfo>("--config") { Description = "Campaign file (YAML), e.g. campaigns/demo.yaml.", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder: stage files, checkpoints, dataset/, report.md. Rerunning into it resumes.", Required = true };
        var command = new Command("run", "Run a campaign; Ctrl+C stops it and a rerun with the same --out resumes after the last finished stage.") { config, output };
        command.SetAction(async (parse, cancellationToken) => await CliErrors.GuardAsync(async () =>
        {
            var file = parse.GetValue(config)!;
            var campaign = CampaignConfig.Load(file.FullName);
            var outDir = parse.GetValue(output)!.FullName;
            // Remote teacher calls are cached for the run; the services cache them in Redis.
            using var backends = RemoteBackends.For(campaign, new InMemoryCallCache());
            var runner = backends.Runner(campaign, outDir, Directory.GetCurrentDirectory());
            Console.WriteLine($"Campaign '{campaign.Name}' (seed {campaign.Seed}, {campaign.Iterations} iteration(s), prescription {campaign.Prescription}) -> {outDir}");
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var result = await StageProgressDisplay.RunAsync(display =>
            {
                runner.Note += display.WriteLine; // between progress lines, never inside one
                return runner.RunAsync(display, cancellationToken);
            });
            var r = result.Report;
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(inv, $"Test accuracy {100 * r.BaseTestAccuracy:0.0} % -> {100 * r.FinalTestAccuracy:0.0} % ({r.Iterations.Count(i => i.Promoted)} of {r.Iterations.Count} iterations promoted) in {watch.Elapsed.TotalSeconds:0} s."));
            Console.WriteLine($"Dataset: {result.DatasetDirectory} ({r.DatasetSamples} samples, manifest {r.DatasetManifestSha256})");
            Console.WriteLine($"Report:  {result.ReportPath}");
            if (backends.WriteCallLog(outDir) is { } calls)
            {
                foreach (var f in backends.Teacher!.Log.Summary())
                    Console.WriteLine($"Teacher {f.Function}: {f.Calls} calls ({f.Cached} cached, {f.Rejected} rejected, {f.Failed} failed), {f.PromptTokens} prompt + {f.CompletionTokens} completion tokens");
                Console.WriteLine($"Teacher calls: {calls}");
            }
            return 0;
        }));
        return command;
    }
}
