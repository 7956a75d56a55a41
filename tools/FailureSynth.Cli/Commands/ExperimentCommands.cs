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
        var sizes = new Option<string?>("--sizes") { Description = "budget-curve only: the sample counts, comma-separated. [default: " + string.Join(",", Experiments.BudgetSizes) + "]" };
        var command = new Command("experiment", "Run one experiment of the method (targeted vs random data, retrieval, ablations, locate accuracy, iterations, budget curve); finished arm runs are cached and reused.")
        {
            name, output, seeds, config, sizes,
        };
        command.SetAction(async (parse, cancellationToken) => await CliErrors.GuardAsync(async () =>
        {
            string experiment = parse.GetValue(name)!;
            int seedCount = parse.GetValue(seeds);
            if (seedCount is < 1 or > 20) throw new ArgumentException($"--seeds must be 1..20 (got {seedCount}).");
            IReadOnlyList<int>? sizeList = null;
            if (parse.GetValue(sizes) is { } text)
            {
                if (experiment != "budget-curve") throw new ArgumentException("--sizes applies to budget-curve only.");
                sizeList = [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s =>
                    int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 100_000 ? n
                        : throw new ArgumentException($"--sizes must be comma-separated sample counts of 1..100000 (got '{s}' in '{text}')."))];
                if (sizeList.Count == 0) throw new ArgumentException("--sizes names no sample count.");
            }
            var file = parse.GetValue(config)!;
            var campaign = CampaignConfig.Load(file.FullName);
            string outDir = parse.GetValue(output)!.FullName;
            string commandLine = $"failuresynth experiment {experiment} --out {parse.GetValue(output)!} --seeds {seedCount} --config {file}" + (sizeList is null ? "" : $" --sizes {string.Join(",", sizeList)}");
            Console.WriteLine($"Experiment {experiment}, {seedCount} seed(s), config {file} -> {outDir}");
            var report = await StageProgressDisplay.RunAsync(async display =>
            {
                var lab = await Lab.OpenAsync(campaign, outDir, Directory.GetCurrentDirectory(), display, display.WriteLine, cancellationToken);
                return sizeList is null
                    ? await Experiments.RunAsync(experiment, lab, seedCount, commandLine, cancellationToken)
                    : await Experiments.BudgetCurveAsync(lab, seedCount, sizeList, commandLine, cancellationToken);
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
