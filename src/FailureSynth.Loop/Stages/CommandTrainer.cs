using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FailureSynth.Datasets;
using FailureSynth.Datasets.ShapesWorld;
using FailureSynth.Loop.Campaigns;
using FailureSynth.World;
using FailureSynth.World.Rendering;
using YamlDotNet.Serialization;

namespace FailureSynth.Loop.Stages;

/// <summary>What one iteration hands a training command: its data, its starting checkpoint and its settings.</summary>
/// <param name="Iteration">The campaign iteration (1-based).</param>
/// <param name="InitCheckpoint">The checkpoint the iteration starts from (the promoted one of the last iteration).</param>
/// <param name="Added">The prescribed samples of the iteration, in the order the embedded trainer takes them.</param>
/// <param name="Replay">The replayed original samples, after <paramref name="Added"/>, as the embedded trainer draws them.</param>
/// <param name="Options">The fine-tuning settings (steps, learning rate, batch).</param>
/// <param name="WarmupSteps">Learning-rate warm-up steps (the embedded trainer's: a tenth of the steps).</param>
/// <param name="Seed">The iteration's training seed.</param>
/// <param name="Threads">Compute threads the campaign runs with.</param>
/// <param name="ImageSize">Image size of the student, in pixels.</param>
/// <param name="OutputDirectory">The campaign folder, where the pictures of described samples are stored; null when none has one.</param>
/// <param name="ExternalReplay">Replayed questions of the user's own data (a campaign's <c>replay.file</c>), after <paramref name="Replay"/>.</param>
public sealed record CommandTrainingInput(int Iteration, byte[] InitCheckpoint, IReadOnlyList<StoredSample> Added, IReadOnlyList<WorldSample> Replay,
    FineTuneOptions Options, int WarmupSteps, long Seed, int Threads, int ImageSize, string? OutputDirectory = null, IReadOnlyList<DatasetRecord>? ExternalReplay = null);

/// <summary>A training command that failed: non-zero exit, timeout, or no checkpoint. The message names the command and its last output lines.</summary>
public sealed class CommandTrainingException(string message) : Exception(message);

/// <summary>
/// The fine-tune stage through a training command the user already uses (<c>trainer.backend: command</c>). For one iteration it
/// writes, under <c>iter-K/trainer/</c>: <c>data/</c> (the prescribed and replayed samples as a dataset folder with LLaMA-Factory's
/// dataset_info.json, in the embedded trainer's order), <c>init.safetensors</c>, <c>train.yaml</c> (a LLaMA-Factory training
/// file) and <c>output/</c>; runs the argv list without a shell, its placeholders filled; streams each output line to
/// <c>command.log</c> and the campaign's notes; and returns the bytes of the checkpoint the command wrote.
/// </summary>
public sealed partial class CommandTrainer(IReadOnlyList<string> command, TimeSpan timeout, string checkpoint, string? model, string template, string finetuningType,
    string workingDirectory, Action<string>? line = null)
{
    /// <summary>The placeholders a command may hold, each filled per iteration (docs/trainer-command.md).</summary>
    public static readonly IReadOnlyList<string> Placeholders =
        ["dataset_info", "dataset_dir", "dataset", "output_dir", "init_checkpoint", "config_yaml", "steps", "learning_rate", "batch_size", "warmup_steps", "seed", "threads", "iteration"];

    /// <summary>Output lines kept for the error of a failed command.</summary>
    public const int TailLines = 20;

    /// <summary>The <c>{name}</c> placeholders of <paramref name="argument"/> that are not in <see cref="Placeholders"/>.</summary>
    public static IEnumerable<string> UnknownPlaceholders(string argument) =>
        PlaceholderPattern().Matches(argument).Select(m => m.Groups["name"].Value).Where(n => !Placeholders.Contains(n));

    /// <summary>Each argument with its placeholders replaced by <paramref name="values"/>.</summary>
    public static IReadOnlyList<string> Fill(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> values) =>
        [.. argv.Select(a => PlaceholderPattern().Replace(a, m => values.TryGetValue(m.Groups["name"].Value, out var v) ? v : m.Value))];

    /// <summary>The command as a user reads it in an error: arguments with spaces quoted.</summary>
    public static string Display(IReadOnlyList<string> argv) => string.Join(' ', argv.Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"\"{a}\"" : a));

    /// <summary>Runs one iteration's training; <paramref name="directory"/> is the iteration's folder.</summary>
    public async Task<byte[]> TrainAsync(string directory, CommandTrainingInput input, CancellationToken cancellationToken)
    {
        string root = Path.Combine(directory, "trainer");
        // A failed or interrupted earlier try leaves its files: start clean, so a stale checkpoint is never taken.
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        string data = Path.Combine(root, "data");
        string output = Path.Combine(root, "output");
        string init = Path.Combine(root, "init.safetensors");
        string yaml = Path.Combine(root, "train.yaml");
        string log = Path.Combine(root, "command.log");
        Directory.CreateDirectory(output);
        File.WriteAllBytes(init, input.InitCheckpoint);
        string datasetName = WriteDataset(data, input);
        var inv = CultureInfo.InvariantCulture;
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["dataset_info"] = Path.Combine(data, DatasetLayout.DatasetInfoFile),
            ["dataset_dir"] = data,
            ["dataset"] = datasetName,
            ["output_dir"] = output,
            ["init_checkpoint"] = init,
            ["config_yaml"] = yaml,
            ["steps"] = input.Options.Steps.ToString(inv),
            ["learning_rate"] = input.Options.LearningRate.ToString("R", inv),
            ["batch_size"] = input.Options.BatchSize.ToString(inv),
            ["warmup_steps"] = input.WarmupSteps.ToString(inv),
            ["seed"] = input.Seed.ToString(inv),
            ["threads"] = input.Threads.ToString(inv),
            ["iteration"] = input.Iteration.ToString(inv),
        };
        File.WriteAllText(yaml, LlamaFactoryYaml(model ?? init, datasetName, data, output, input, template, finetuningType));
        var argv = Fill(command, values);
        string shown = Display(argv);
        var tail = await RunAsync(argv, shown, log, cancellationToken).ConfigureAwait(false);
        string produced = Path.Combine(output, checkpoint);
        if (!File.Exists(produced))
            throw new CommandTrainingException($"Iteration {input.Iteration}: the training command `{shown}` exited with 0 but wrote no checkpoint at {produced} " +
                $"(trainer.checkpoint '{checkpoint}', relative to {{output_dir}}); log: {log}. Rerun `campaign run` with the same --out to resume from the train stage.{Tail(tail)}");
        return File.ReadAllBytes(produced);
    }

    /// <summary>
    /// The LLaMA-Factory training file of an iteration. Field names are LLaMA-Factory's documented options (its
    /// examples/train_lora and train_full recipes) and the Hugging Face TrainingArguments it accepts (max_steps, seed,
    /// warmup_steps, report_to); docs/trainer-command.md lists them.
    /// </summary>
    public static string LlamaFactoryYaml(string modelNameOrPath, string dataset, string datasetDirectory, string outputDirectory, CommandTrainingInput input,
        string template, string finetuningType)
    {
        var fields = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["model_name_or_path"] = modelNameOrPath,
            ["stage"] = "sft",
            ["do_train"] = true,
            ["finetuning_type"] = finetuningType,
        };
        if (finetuningType == "lora") fields["lora_target"] = "all";
        fields["dataset"] = dataset;
        fields["dataset_dir"] = datasetDirectory;
        fields["template"] = template;
        fields["cutoff_len"] = 1024;
        fields["overwrite_cache"] = true;
        fields["output_dir"] = outputDirectory;
        fields["overwrite_output_dir"] = true;
        fields["logging_steps"] = 10;
        fields["per_device_train_batch_size"] = input.Options.BatchSize;
        fields["gradient_accumulation_steps"] = 1;
        // Through its shortest text: the float 5e-4 widened to double would print as 0.0005000000237487257.
        fields["learning_rate"] = double.Parse(input.Options.LearningRate.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        // Steps, not epochs: the campaign's budget is in optimiser steps (max_steps overrides num_train_epochs).
        fields["max_steps"] = input.Options.Steps;
        fields["lr_scheduler_type"] = "cosine";
        fields["warmup_steps"] = input.WarmupSteps;
        // Hugging Face's set_seed hands the seed to numpy's RandomState.seed, which refuses values of 2^32 and more: the
        // iteration's 64-bit seed, reduced to that range (the {seed} placeholder keeps all 64 bits).
        fields["seed"] = (uint)((ulong)input.Seed & uint.MaxValue);
        fields["report_to"] = "none";
        var serializer = new SerializerBuilder().Build();
        return $"# Written by FailureSynth for campaign iteration {input.Iteration.ToString(CultureInfo.InvariantCulture)} (trainer.backend: command).\n" + serializer.Serialize(fields);
    }

    // Prescribed samples, then the replay, in the embedded trainer's order: the same data in the same order gives the
    // same student when the command is `failuresynth student train`.
    private static string WriteDataset(string directory, CommandTrainingInput input)
    {
        string name = $"failuresynth_iter_{input.Iteration.ToString(CultureInfo.InvariantCulture)}";
        using var writer = new DatasetWriter(directory, name, new DatasetWriterOptions(Overwrite: true));
        foreach (var stored in input.Added)
        {
            var p = stored.Proposal;
            var example = CampaignRunner.ToExample(stored, input.ImageSize, input.OutputDirectory);
            var vqa = new VqaSample(Id: p.Id, Image: DatasetLayout.ImagePath(p.Id), Question: p.Question, Answer: example.Answer, Family: example.Family,
                Skills: example.Skills, Steps: [.. example.Steps.Select((s, i) => new SampleStep(i + 1, s.Question, s.Answer))], Source: stored.Source);
            var provenance = new JsonObject
            {
                ["generator"] = "failuresynth-campaign",
                ["iteration"] = input.Iteration,
                ["source"] = stored.Source,
                ["scene"] = JsonSerializer.SerializeToNode(p.Scene, WorldJson.Options),
                ["program"] = JsonSerializer.SerializeToNode(p.Program, WorldJson.Options),
            };
            // A described sample's picture came from the image endpoint and is stored; a scene is rendered again.
            byte[] png = p.Scene is null ? Imaging.PngEncoder.Encode(example.Image) : SceneRasterizer.RenderPng(p.Scene, input.ImageSize);
            writer.Add(new DatasetRecord(vqa, png, provenance));
        }
        foreach (var sample in input.Replay) writer.Add(ShapesWorldExporter.CreateRecord(sample, input.ImageSize));
        foreach (var record in input.ExternalReplay ?? []) writer.Add(record);
        writer.Complete();
        return name;
    }

    private async Task<IReadOnlyList<string>> RunAsync(IReadOnlyList<string> argv, string shown, string log, CancellationToken cancellationToken)
    {
        // An argv list, never a shell: no quoting, globbing or expansion of what a placeholder holds.
        var start = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in argv.Skip(1)) start.ArgumentList.Add(argument);
        var tail = new Queue<string>();
        var gate = new object();
        using var writer = new StreamWriter(log, append: false, new UTF8Encoding(false));
        void Received(string? text)
        {
            if (text is null) return;
            lock (gate)
            {
                writer.WriteLine(text);
                tail.Enqueue(text);
                if (tail.Count > TailLines) tail.Dequeue();
            }
            line?.Invoke(text);
        }
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Received(e.Data);
        process.ErrorDataReceived += (_, e) => Received(e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new CommandTrainingException($"The training command `{shown}` could not be started ({e.Message}); trainer.command[0] must name a program on PATH or a path to one.");
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timer = new CancellationTokenSource(timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The whole tree: a launcher (torchrun, accelerate) leaves its workers running otherwise.
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            List<string> lines;
            lock (gate) lines = [.. tail];
            throw new CommandTrainingException($"The training command `{shown}` did not finish within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (trainer.timeout_s) and was stopped; log: {log}. " +
                $"Raise trainer.timeout_s or shorten the run, then rerun `campaign run` with the same --out to resume from the train stage.{Tail(lines)}");
        }
        List<string> last;
        lock (gate)
        {
            writer.Flush();
            last = [.. tail];
        }
        if (process.ExitCode != 0)
            throw new CommandTrainingException($"The training command `{shown}` exited with code {process.ExitCode.ToString(CultureInfo.InvariantCulture)}; log: {log}. " +
                $"Fix the command (trainer.command) and rerun `campaign run` with the same --out to resume from the train stage.{Tail(last)}");
        return last;
    }

    private static string Tail(IReadOnlyCollection<string> lines) =>
        lines.Count == 0 ? " It printed nothing." : " Its last output lines:\n  " + string.Join("\n  ", lines);

    [GeneratedRegex(@"\{(?<name>[A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex PlaceholderPattern();
}
