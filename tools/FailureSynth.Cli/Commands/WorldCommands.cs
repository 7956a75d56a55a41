using System.CommandLine;
using System.Globalization;
using FailureSynth.Cli.Terminal;
using FailureSynth.Datasets;
using FailureSynth.Datasets.ShapesWorld;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Rendering;
using FailureSynth.World.Skills;
using Spectre.Console;

namespace FailureSynth.Cli.Commands;

/// <summary><c>failuresynth world …</c>: generate ShapesWorld datasets and list its skills.</summary>
public static class WorldCommands
{
    public static Command Create() => new("world", "ShapesWorld, the embedded procedural data source.")
    {
        CreateGenerate(),
        CreateSkills(),
        CreateProfiles(),
    };

    private static Command CreateGenerate()
    {
        var profile = new Option<string>("--profile") { Description = "Sampling profile: " + string.Join(", ", Profiles.Names) + " (or --profile-file)." };
        profile.AcceptOnlyFromAmong([.. Profiles.Names]);
        var profileFile = new Option<FileInfo>("--profile-file") { Description = "A profile file (YAML, the fields `world profiles --export NAME` prints) instead of --profile." };
        var count = new Option<int>("--count") { Description = "Number of samples.", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed: the same seed gives byte-identical output.", DefaultValueFactory = _ => 1 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder (created; must be empty or an earlier FailureSynth dataset).", Required = true };
        var size = new Option<int>("--size") { Description = "Image side in pixels.", DefaultValueFactory = _ => SceneRasterizer.DefaultSize };
        var form = new Option<string?>("--form") { Description = "Question form: open (short answer) or choice (lettered options). Default: open; choice for --format scienceqa." };
        form.AcceptOnlyFromAmong("open", "choice");
        var format = new Option<string>("--format")
        {
            Description = "Folder layout: failuresynth (LLaVA JSON, provenance, dataset_info.json), vqav2 (VQA v2 abstract-scenes files) or scienceqa (problems.json, pid_splits.json).",
            DefaultValueFactory = _ => "failuresynth",
        };
        format.AcceptOnlyFromAmong("failuresynth", "vqav2", "scienceqa");
        var split = new Option<string?>("--split")
        {
            Description = $"Split the samples are written under, with --format vqav2 (default {ShapesWorldExportRequest.DefaultVqaV2Split}) or scienceqa (default {ShapesWorldExportRequest.DefaultScienceQaSplit}).",
        };
        var threads = new Option<int>("--threads") { Description = "Worker threads; 0 uses every core. The output does not depend on it.", DefaultValueFactory = _ => 0 };
        var overwrite = new Option<bool>("--overwrite") { Description = "Allow writing into a non-empty folder that is not a FailureSynth dataset." };

        var command = new Command("generate", "Generate a ShapesWorld dataset: PNG images, LLaVA JSON, provenance JSONL, dataset_info.json and manifest.json, or VQA v2 / ScienceQA files (--format).")
        {
            profile, profileFile, count, seed, output, size, form, format, split, threads, overwrite,
        };
        command.Validators.Add(result =>
        {
            bool named = result.GetResult(profile) is not null, file = result.GetResult(profileFile) is not null;
            if (named == file) result.AddError("Give exactly one of --profile NAME and --profile-file PATH.");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            ShapesWorldFormat layout = parse.GetValue(format) switch
            {
                "vqav2" => ShapesWorldFormat.VqaV2,
                "scienceqa" => ShapesWorldFormat.ScienceQa,
                _ => ShapesWorldFormat.FailureSynth,
            };
            string questionForm = parse.GetValue(form) ?? (layout == ShapesWorldFormat.ScienceQa ? "choice" : "open");
            var request = new ShapesWorldExportRequest(
                Profile: parse.GetValue(profileFile)?.FullName ?? parse.GetValue(profile)!,
                Count: parse.GetValue(count),
                Seed: parse.GetValue(seed),
                OutputDirectory: parse.GetValue(output)!.FullName,
                ImageSize: parse.GetValue(size),
                Form: questionForm == "choice" ? QuestionForm.Choice : QuestionForm.Open,
                Threads: parse.GetValue(threads),
                Overwrite: parse.GetValue(overwrite),
                Format: layout,
                Split: parse.GetValue(split));
            return await CliErrors.GuardAsync(async () =>
            {
                request.Validate();
                ShapesWorldExportResult result = await ProgressDisplay.RunAsync(
                    $"Generating {request.Count} {Path.GetFileName(request.Profile)} samples", request.Count,
                    progress => Task.Run(() => ShapesWorldExporter.Export(request, progress, cancellationToken), cancellationToken));
                PrintSummary(request, result);
                return 0;
            });
        });
        return command;
    }

    private static void PrintSummary(ShapesWorldExportRequest request, ShapesWorldExportResult result)
    {
        DatasetManifest manifest = result.Manifest;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        string layout = request.Format switch
        {
            ShapesWorldFormat.VqaV2 => $" in the VQA v2 layout (split {request.EffectiveSplit})",
            ShapesWorldFormat.ScienceQa => $" in the ScienceQA layout (split {request.EffectiveSplit})",
            _ => "",
        };
        Console.WriteLine($"Wrote {manifest.SampleCount} samples to {request.OutputDirectory}{layout}");
        Console.WriteLine(string.Create(inv, $"  {result.Elapsed.TotalSeconds:F1} s, {result.SamplesPerSecond:F0} samples/s on {result.Threads} thread(s)"));
        Console.WriteLine($"  files: {manifest.Files.Count}, dataset_sha256: {manifest.DatasetSha256}");
        var families = new Table().AddColumns("family", "samples", "share");
        foreach (var (family, n) in manifest.FamilyCounts)
            families.AddRow(family, n.ToString(inv), (100.0 * n / manifest.SampleCount).ToString("F1", inv) + " %");
        AnsiConsole.Write(families);
        var rarest = manifest.SkillCounts.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(5);
        Console.WriteLine($"  skills covered: {manifest.SkillCounts.Count} of {SkillTaxonomy.All.Count}; rarest: " +
                          string.Join(", ", rarest.Select(kv => $"{kv.Key} ({kv.Value})")));
    }

    private static Command CreateSkills()
    {
        var command = new Command("skills", "Print the skill taxonomy: every canonical skill key with its description.");
        command.SetAction(_ =>
        {
            var table = new Table().AddColumns("skill key", "family", "description");
            foreach (SkillInfo skill in SkillTaxonomy.All)
                table.AddRow(Markup.Escape(skill.Key), skill.Family, Markup.Escape(skill.Description));
            AnsiConsole.Write(table);
            Console.WriteLine($"{SkillTaxonomy.All.Count} skills.");
            return 0;
        });
        return command;
    }

    private static Command CreateProfiles()
    {
        var export = new Option<string?>("--export") { Description = "Print this built-in profile as a profile file (YAML) instead, to edit and pass to --profile-file." };
        export.AcceptOnlyFromAmong([.. Profiles.Names]);
        var command = new Command("profiles", "List the sampling profiles with their descriptions, or print one as a profile file.") { export };
        command.SetAction(parse =>
        {
            if (parse.GetValue(export) is { } exported)
            {
                Console.Out.Write(ProfileFile.Write(Profiles.Get(exported)));
                return 0;
            }
            foreach (string name in Profiles.Names)
                Console.WriteLine($"{name}: {Profiles.Get(name).Description}");
            return 0;
        });
        return command;
    }
}
