using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Stages;
using YamlDotNet.RepresentationModel;

namespace FailureSynth.Loop.Tests;

/// <summary>trainer.backend: command: its config checks, the LLaMA-Factory YAML it writes, and a command that fails or never ends.</summary>
public sealed class CommandTrainerTests
{
    private const string Command = "trainer:\n  backend: command\n  command: [llamafactory-cli, train, \"{config_yaml}\"]\n";
    private const string NoDistill = "budget: { distill: 0 }\n";

    private static string Problems(string yaml) => Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse(yaml, "t.yaml")).Message;

    [Fact]
    public void A_command_trainer_config_is_read_and_the_default_stays_embedded()
    {
        var config = CampaignConfig.Parse(NoDistill + Command + "  timeout_s: 60\n  checkpoint: adapter/model.safetensors\n  finetuning_type: full\n", "t.yaml");
        Assert.True(config.Trainer!.IsCommand);
        Assert.Equal(new[] { "llamafactory-cli", "train", "{config_yaml}" }, config.Trainer.Command);
        Assert.Equal(60, config.Trainer.TimeoutS);
        // No trainer section: the embedded trainer, and the config's JSON has no trainer key (older runs keep their config.json).
        var plain = CampaignConfig.Parse("name: x\n", "t.yaml");
        Assert.Null(plain.Trainer);
        Assert.DoesNotContain("trainer", System.Text.Json.JsonSerializer.Serialize(plain, CampaignJson.Options), StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_trainer_settings_are_refused_each_naming_its_key()
    {
        Assert.Contains("unknown key 'trainer.comand'; did you mean 'trainer.command'?", Problems("trainer: { backend: command, comand: [x] }\n"));
        Assert.Contains("'trainer.command' must be a list of text", Problems(NoDistill + "trainer: { backend: command, command: \"llamafactory-cli train x.yaml\" }\n"));
        Assert.Contains("'trainer.command' must be a list of text ([program, arg, ...]); an item is a mapping", Problems(NoDistill + "trainer: { backend: command, command: [a, { b: c }] }\n"));
        Assert.Contains("trainer.command must be a non-empty list", Problems(NoDistill + "trainer: { backend: command, command: [] }\n"));
        Assert.Contains("trainer.command must be a non-empty list", Problems(NoDistill + "trainer: { backend: command }\n"));
        Assert.Contains("trainer.command[0] is empty", Problems(NoDistill + "trainer: { backend: command, command: [\"\", x] }\n"));
        string unknown = Problems(NoDistill + "trainer: { backend: command, command: [train, \"--data={data_dir}\", \"{output_dir}/m\"] }\n");
        Assert.Contains("trainer.command[1] '--data={data_dir}' has the unknown placeholder {data_dir}; known: {dataset_info}, {dataset_dir}", unknown);
        Assert.DoesNotContain("command[2]", unknown);
        Assert.Contains("trainer.backend 'shell' must be one of embedded, command", Problems("trainer: { backend: shell }\n"));
        Assert.Contains("trainer.command is used only with trainer.backend: command", Problems("trainer: { command: [x] }\n"));
        Assert.Contains("trainer.timeout_s must be in (0, 604800]", Problems(NoDistill + Command + "  timeout_s: 0\n"));
        Assert.Contains("trainer.checkpoint '../m.safetensors' must be a path inside the command's output folder", Problems(NoDistill + Command + "  checkpoint: ../m.safetensors\n"));
        Assert.Contains("trainer.checkpoint '/tmp/m' must be a path inside", Problems(NoDistill + Command + "  checkpoint: /tmp/m\n"));
        Assert.Contains("trainer.finetuning_type 'qlora' must be one of lora, full, freeze", Problems(NoDistill + Command + "  finetuning_type: qlora\n"));
        Assert.Contains("trainer.template 'qwen 2' must be a LLaMA-Factory template name", Problems(NoDistill + Command + "  template: qwen 2\n"));
        // The embedded trainer's guards against forgetting are refused, not silently dropped (distill is on by default).
        Assert.Contains("budget.distill 1 is applied by the embedded trainer only", Problems(Command));
        Assert.Contains("budget.keep_start is applied by the embedded trainer only", Problems("budget: { distill: 0, keep_start: 0.3 }\n" + Command));
        Assert.Contains("budget.guard is applied by the embedded trainer only", Problems("budget: { distill: 0, guard: 0.3 }\n" + Command));
    }

    [Fact]
    public void The_yaml_written_holds_llama_factorys_documented_training_fields()
    {
        var input = Input(steps: 120);
        string yaml = CommandTrainer.LlamaFactoryYaml("Qwen/Qwen2-VL-2B-Instruct", "failuresynth_iter_2", "/d/data", "/d/output", input, "qwen2_vl", "lora");
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var fields = ((YamlMappingNode)stream.Documents[0].RootNode).Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value!);
        var expected = new Dictionary<string, string>
        {
            // model / method / dataset / output / train, as LLaMA-Factory's examples/train_lora recipes name them.
            ["model_name_or_path"] = "Qwen/Qwen2-VL-2B-Instruct", ["stage"] = "sft", ["do_train"] = "true", ["finetuning_type"] = "lora", ["lora_target"] = "all",
            ["dataset"] = "failuresynth_iter_2", ["dataset_dir"] = "/d/data", ["template"] = "qwen2_vl", ["cutoff_len"] = "1024", ["overwrite_cache"] = "true",
            ["output_dir"] = "/d/output", ["overwrite_output_dir"] = "true", ["logging_steps"] = "10",
            ["per_device_train_batch_size"] = "16", ["gradient_accumulation_steps"] = "1", ["learning_rate"] = "0.0005", ["max_steps"] = "120",
            ["lr_scheduler_type"] = "cosine", ["warmup_steps"] = "12", ["seed"] = "99", ["report_to"] = "none",
        };
        Assert.Equal(expected.OrderBy(kv => kv.Key), fields.OrderBy(kv => kv.Key));
        // A campaign's 64-bit seed, in the range numpy's RandomState.seed takes (Hugging Face's set_seed passes it there).
        Assert.Contains("\nseed: 2555139558\n", CommandTrainer.LlamaFactoryYaml("m", "d", "/a", "/b", input with { Seed = 1584234690100614630 }, "qwen2_vl", "lora"), StringComparison.Ordinal);
        // Full fine-tuning has no LoRA target.
        Assert.DoesNotContain("lora_target", CommandTrainer.LlamaFactoryYaml("m", "d", "/a", "/b", input, "qwen2_vl", "full"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_that_writes_no_checkpoint_or_outlives_its_timeout_fails_with_its_command_and_last_lines()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fs-cmdtrainer-" + Guid.NewGuid().ToString("N"));
        try
        {
            // /bin/sh is the user's program here (a trainer that prints and then misbehaves); FailureSynth starts it from an argv list.
            var quiet = new CommandTrainer(["sh", "-c", "echo reading {dataset_info}; echo saved elsewhere"], TimeSpan.FromSeconds(30), "model.safetensors", null, "qwen2_vl", "lora", dir);
            string missing = (await Assert.ThrowsAsync<CommandTrainingException>(() => quiet.TrainAsync(dir, Input(), default))).Message;
            Assert.Contains("exited with 0 but wrote no checkpoint at " + Path.Combine(dir, "trainer", "output", "model.safetensors"), missing);
            Assert.Contains("reading " + Path.Combine(dir, "trainer", "data", "dataset_info.json"), missing);
            Assert.Contains("saved elsewhere", missing);
            Assert.True(File.Exists(Path.Combine(dir, "trainer", "train.yaml")));
            Assert.Contains("saved elsewhere", await File.ReadAllTextAsync(Path.Combine(dir, "trainer", "command.log")));

            var lines = new List<string>();
            // 5 s: on a loaded machine the shell may take more than a second to start and print its first line.
            var slow = new CommandTrainer(["sh", "-c", "echo step 1; sleep 120"], TimeSpan.FromSeconds(5), "model.safetensors", null, "qwen2_vl", "lora", dir, lines.Add);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            string timeout = (await Assert.ThrowsAsync<CommandTrainingException>(() => slow.TrainAsync(dir, Input(), default))).Message;
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"the command was not stopped at its timeout ({watch.Elapsed})");
            Assert.Contains("`sh -c \"echo step 1; sleep 120\"` did not finish within 5 s (trainer.timeout_s) and was stopped", timeout);
            Assert.Contains("step 1", timeout);
            Assert.Equal(new[] { "step 1" }, lines);

            var absent = new CommandTrainer(["no-such-trainer-program"], TimeSpan.FromSeconds(5), "model.safetensors", null, "qwen2_vl", "lora", dir);
            Assert.Contains("`no-such-trainer-program` could not be started", (await Assert.ThrowsAsync<CommandTrainingException>(() => absent.TrainAsync(dir, Input(), default))).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static CommandTrainingInput Input(int steps = 10) =>
        new(2, [1, 2, 3], [], [], new FineTuneOptions(steps, 5e-4f, BatchSize: 16), StudentTraining.WarmupSteps(steps), 99, 2, 64);
}
