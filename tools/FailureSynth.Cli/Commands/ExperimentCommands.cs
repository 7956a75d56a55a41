using System.CommandLine;
using System.Globalization;
using FailureSynth.Cli.Terminal;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Experiments;

namespace FailureSynth.Cli.Commands;

/// <summary><c>failuresynth experiment NAME</c>: the experiments that test the method, each writing report.md and report.json.</summary>
public static class ExperimentCommands
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Experiment: " + string.Join(", ", Experiments.Names) + "." };
        name.AcceptOnlyFromAmong(Experiments.Names);
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder for report.md, report.json and arms.svg.", Required = true };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per arm (mean and sd are over them).", DefaultValueFactory = _ => 3 };
        var config = new Option<FileInfo>("--config") { Description = "Campaign file giving the base student, test split, teacher and budgets.", DefaultValueFactory = _ => new FileInfo(Path.Combine("campaigns", "demo.yaml")) };
        var command = new Command("experiment", "Run one experiment of the method (targeted vs random data, retrieval, ablations, locate accuracy, iterations); finished arm runs are cached and reused.")
        {
            name, output, seeds, config,
        };
        command.SetAction(async (parse, cancellationToken) => await CliErrors.GuardAsync(async () =>
        {
            string experiment = parse.GetValue(name)!;
            int seedCount = parse.GetValue(seeds);
            if (seedCount is < 1 or > 20) throw new ArgumentException($"--seeds must be 1..20 (got {seedCount}).");
            var file = parse.GetValue(config)!;
            var campaign = CampaignConfig.Load(file.FullName);
            string outDir = parse.GetValue(output)!.FullName;
            string commandLine = $"failuresynth experiment {experiment} --out {parse.GetValue(output)!} --seeds {seedCount} --config {file}";
            Console.WriteLine($"Experiment {experiment}, {seedCount} seed(s), config {file} -> {outDir}");
            var report = await StageProgressDisplay.RunAsync(async progress =>
            {
                var lab = await Lab.OpenAsync(campaign, outDir, Directory.GetCurrentDirectory(), progress, Console.WriteLine, cancellationToken);
                return await Experiments.RunAsync(experiment, lab, seedCount, commandLine, cancellationToken);
            });
            var inv = CultureInfo.InvariantCulture;
            foreach (var row in report.Rows)
                Console.WriteLine(string.Create(inv, $"  {row.Arm,-18} n={row.N,-6} {100 * row.Mean,5:0.0} ± {100 * row.Sd:0.0} %  [{string.Join(", ", row.Seeds.Select(v => (100 * v).ToString("0.0", inv)))}]"));
            foreach (var finding in report.Findings) Console.WriteLine("  - " + finding);
            Console.WriteLine($"Report: {Path.Combine(outDir, "report.md")}");
            return 0;
        }));
        return command;
    }
}
