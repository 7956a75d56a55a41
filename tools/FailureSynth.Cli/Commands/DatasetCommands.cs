using System.CommandLine;
using FailureSynth.Datasets;

namespace FailureSynth.Cli.Commands;

/// <summary><c>failuresynth dataset …</c>: validate and summarise datasets in any supported format.</summary>
public static class DatasetCommands
{
    public static Command Create() => new("dataset", "Dataset tools.")
    {
        CreateInspect(),
    };

    private static Command CreateInspect()
    {
        var path = new Argument<string>("PATH") { Description = "A FailureSynth dataset folder, LLaVA JSON, JSONL, VQA v2 questions file or folder, ScienceQA folder / problems.json, or LLaMA-Factory dataset_info.json / folder / alpaca or sharegpt .json or .jsonl file." };
        var format = new Option<string?>("--format") { Description = "Force the format instead of detecting it: failuresynth, llava, vqav2, scienceqa, jsonl, llamafactory." };
        format.AcceptOnlyFromAmong("failuresynth", "llava", "vqav2", "scienceqa", "jsonl", "llamafactory");
        var imageRoot = new Option<string?>("--images") { Description = "Folder the image paths are relative to; it must exist (default: beside the file; ScienceQA: its images/ folder when there is one)." };
        var noImages = new Option<bool>("--no-image-check") { Description = "Do not require referenced images to exist (e.g. a LLaVA file without its image download)." };
        var top = new Option<int>("--top") { Description = "Rows per table.", DefaultValueFactory = _ => 10 };

        var command = new Command("inspect", "Validate a dataset completely and summarise it; exits 1 with a precise message (file, record, field) if it is malformed.")
        {
            path, format, imageRoot, noImages, top,
        };
        command.SetAction(parse => CliErrors.Guard(() =>
        {
            DatasetFormat? forced = parse.GetValue(format) switch
            {
                null => null,
                "failuresynth" => DatasetFormat.FailureSynth,
                "llava" => DatasetFormat.Llava,
                "vqav2" => DatasetFormat.VqaV2,
                "scienceqa" => DatasetFormat.ScienceQa,
                "llamafactory" => DatasetFormat.LlamaFactory,
                _ => DatasetFormat.Jsonl,
            };
            var options = new DatasetReadOptions(parse.GetValue(imageRoot), parse.GetValue(noImages) ? false : null);
            DatasetSummary summary = DatasetInspector.Inspect(parse.GetValue(path)!, forced, options, parse.GetValue(top));
            Console.Write(summary.ToText());
            return 0;
        }));
        return command;
    }
}
