using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Stages;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Training;
using FailureSynth.TinyVlm.Vocabulary;
using FailureSynth.World;

namespace FailureSynth.Loop.Tests;

/// <summary>A small trained student shared by the campaign tests (trained once per test run, in seconds).</summary>
public sealed class SmallStudentFixture : IDisposable
{
    public SmallStudentFixture()
    {
        Directory.CreateDirectory(Root);
        var samples = Enumerable.Range(0, 400).Select(i => new WorldGenerator(Profiles.BaseSkewed).Generate(1, i)).ToList();
        var examples = StudentTraining.Examples(samples);
        var context = ComputeContext.Create(2, preferNativeBlas: false);
        var student = TinyVlmStudent.Create(context, TokenVocabulary.Build(examples.SelectMany(e => e.Steps.Select(s => s.Question).Prepend(e.Question))), 1);
        StudentTrainer.Train(student, examples, new TrainingOptions(40, 1));
        student.Save(Checkpoint);
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "fs-loop-tests-" + Guid.NewGuid().ToString("N"));
    public string Checkpoint => Path.Combine(Root, "small.safetensors");

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

public sealed class CampaignTests(SmallStudentFixture fixture) : IClassFixture<SmallStudentFixture>
{
    private string Yaml(int seed = 3) => $"""
        name: tiny
        seed: {seed}
        threads: 2
        iterations: 2
        student: {"{"} checkpoint: {fixture.Checkpoint} {"}"}
        validation: {"{"} profile: balanced, count: 120, seed: 101 {"}"}
        test: {"{"} profile: balanced, count: 150, seed: 2 {"}"}
        budget: {"{"} failures: 40, samples: 60, train_steps: 6 {"}"}
        teacher: {"{"} prior_samples: 3000 {"}"}
        """;

    private async Task<(CampaignResult Result, List<string> Notes)> Run(string output, string yaml)
    {
        var runner = new CampaignRunner(CampaignConfig.Parse(yaml, "test.yaml"), output);
        var notes = new List<string>();
        runner.Note += notes.Add;
        var result = await runner.RunAsync(null, default);
        return (result, notes);
    }

    [Fact]
    public void Keep_start_mixes_each_fine_tuned_weight_and_statistic_with_the_starting_one_in_that_proportion()
    {
        byte[] start = File.ReadAllBytes(fixture.Checkpoint);
        var context = ComputeContext.Create(2, preferNativeBlas: false);
        var original = Enumerable.Range(0, 40).Select(i => new WorldGenerator(Profiles.BaseSkewed).Generate(1, i)).ToList();
        var added = StudentTraining.Examples([.. Enumerable.Range(0, 24).Select(i => new WorldGenerator(Profiles.Balanced).Generate(9, i))]);
        var options = new FineTuneOptions(Steps: 4, LearningRate: 1e-2f, BatchSize: 8);

        var full = StudentTraining.StateOf(StudentTraining.FineTune(start, context, added, original, options, 5, null, default).Model);
        var mixed = StudentTraining.FineTune(start, context, added, original, options with { KeepStart = 0.25 }, 5, null, default);
        var begin = StudentTraining.StateOf(TinyVlmStudent.FromBytes(start, context, "start").Model);

        Assert.Contains("\"keep_start\":0.25", mixed.Metadata[TinyVlmStudent.TrainingKey], StringComparison.Ordinal);
        int moved = 0;
        foreach (var (name, (_, data)) in StudentTraining.StateOf(mixed.Model))
        {
            for (int i = 0; i < data.Length; i++)
                Assert.Equal(0.75 * full[name].Data[i] + 0.25 * begin[name].Data[i], data[i], 1e-5);
            if (!full[name].Data.SequenceEqual(begin[name].Data)) moved++;
        }
        // The fine-tuning moved the weights and the batch-norm statistics, so the mix is not trivially the start.
        Assert.Contains(full.Keys, n => n.Contains("running_mean", StringComparison.Ordinal) && !full[n].Data.SequenceEqual(begin[n].Data));
        Assert.True(moved > full.Count / 2, $"only {moved} of {full.Count} tensors moved");
    }

    [Fact]
    public void The_guard_probes_measures_the_fall_per_skill_and_retrains_with_replay_of_the_fallen_skills()
    {
        byte[] start = File.ReadAllBytes(fixture.Checkpoint);
        var context = ComputeContext.Create(2, preferNativeBlas: false);
        var original = Enumerable.Range(0, 1600).Select(i => new WorldGenerator(Profiles.BaseSkewed).Generate(1, i)).ToList();
        var added = StudentTraining.Examples([.. Enumerable.Range(0, 48).Select(i => new WorldGenerator(Profiles.Balanced).Generate(9, i))]);
        // A learning rate high enough that the probe forgets something on the held-out original samples.
        var options = new FineTuneOptions(Steps: 8, LearningRate: 1e-1f, BatchSize: 16, Guard: 0.5);

        var guarded = StudentTraining.FineTune(start, context, added, original, options, 5, null, default, out var guard);
        Assert.NotNull(guard);
        Assert.Equal(400, guard.ProbeSamples); // a quarter of the original data at most
        Assert.True(guard.Falls.Count > 0, "the probe fell on no skill");
        Assert.All(guard.Falls.Values, fall => Assert.True(fall > StudentTraining.GuardFall));
        // Half of the 48 replayed samples went to the fallen skills, each part no larger than its share.
        Assert.InRange(guard.Replayed.Values.Sum(), 1, 24);
        Assert.Equal(guard.Falls.Keys, guard.Replayed.Keys);
        Assert.Contains("\"guard\":", guarded.Metadata[TinyVlmStudent.TrainingKey], StringComparison.Ordinal);

        // Deterministic: the same inputs give the same weights and the same findings.
        var again = StudentTraining.FineTune(start, context, added, original, options, 5, null, default, out var guardAgain);
        Assert.Equal(guard.Falls, guardAgain!.Falls);
        Assert.Equal(StudentTraining.StateOf(guarded.Model).Values.SelectMany(t => t.Data), StudentTraining.StateOf(again.Model).Values.SelectMany(t => t.Data));
    }

    [Fact]
    public async Task A_campaign_writes_every_stage_the_dataset_and_the_report_and_the_same_seed_gives_the_same_result()
    {
        string a = Path.Combine(fixture.Root, "a"), b = Path.Combine(fixture.Root, "b");
        var (first, _) = await Run(a, Yaml());
        foreach (int k in new[] { 1, 2 })
            foreach (string stage in CampaignStages.All)
                Assert.True(File.Exists(Path.Combine(a, $"iter-{k}", stage + ".json")), $"iter-{k}/{stage}.json missing");
        foreach (string file in new[] { "report.md", "report.json", "charts/accuracy-per-skill.svg", "charts/failures-per-skill.svg", "charts/rejections.svg", "dataset/manifest.json", "dataset/llava.json", "dataset/provenance.jsonl", "dataset/dataset_info.json" })
            Assert.True(File.Exists(Path.Combine(a, file)), file + " missing");
        Assert.Equal(120, first.Report.DatasetSamples);
        Assert.Equal(2, first.Report.Iterations.Count);
        Assert.Contains("\"failure_id\"", File.ReadAllText(Path.Combine(a, "dataset", "provenance.jsonl")));
        Assert.Contains("\"judge_score\"", File.ReadAllText(Path.Combine(a, "dataset", "provenance.jsonl")));

        // The report shows, per skill, the samples and the gain of every iteration, and the ledger's course.
        Assert.Contains("## Budget and gain per skill", File.ReadAllText(Path.Combine(a, "report.md")));
        Assert.All(first.Report.Iterations, i => Assert.True(i.TrainSteps >= 6 && i.PerSkillBefore is { Count: > 0 }));

        var (second, _) = await Run(b, Yaml());
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "dataset", "manifest.json")), File.ReadAllBytes(Path.Combine(b, "dataset", "manifest.json")));
        Assert.Equal(first.Report.Iterations.Select(i => i.TestAfter), second.Report.Iterations.Select(i => i.TestAfter));
        Assert.Equal(first.Report.FinalTestAccuracy, second.Report.FinalTestAccuracy);
    }

    [Fact]
    public async Task A_rerun_resumes_finished_stages_and_redoes_only_what_is_missing()
    {
        string dir = Path.Combine(fixture.Root, "resume");
        var (first, _) = await Run(dir, Yaml(seed: 5));
        // Simulate an interruption during iteration 2's training: its train and measure results are gone.
        File.Delete(Path.Combine(dir, "iter-2", "train.json"));
        File.Delete(Path.Combine(dir, "iter-2", "measure.json"));
        File.Delete(Path.Combine(dir, "iter-2", "eval.json"));
        var (second, notes) = await Run(dir, Yaml(seed: 5));
        Assert.Contains(notes, n => n.Contains("Iteration 1: train already done", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("Iteration 2: prescribe already done", StringComparison.Ordinal));
        Assert.DoesNotContain(notes, n => n.Contains("Iteration 2: train already done", StringComparison.Ordinal));
        Assert.Equal(first.Report.FinalTestAccuracy, second.Report.FinalTestAccuracy);
        Assert.Equal(first.Report.DatasetManifestSha256, second.Report.DatasetManifestSha256);
    }

    [Fact]
    public async Task Command_trainer_campaign_measures_the_checkpoint_each_iteration_s_command_wrote_and_hands_it_llama_factory_data()
    {
        string root = Path.Combine(fixture.Root, "command");
        Directory.CreateDirectory(root);
        // Two TinyVLM checkpoints unlike the start and unlike each other: the "trainer" hands back ckpt-{iteration}, so the
        // campaign's checkpoint of each iteration can only be the file the command copied.
        byte[] start = File.ReadAllBytes(fixture.Checkpoint);
        var context = ComputeContext.Create(2, preferNativeBlas: false);
        var original = Enumerable.Range(0, 16).Select(i => new WorldGenerator(Profiles.BaseSkewed).Generate(1, i)).ToList();
        var added = StudentTraining.Examples([.. Enumerable.Range(0, 16).Select(i => new WorldGenerator(Profiles.Balanced).Generate(9, i))]);
        foreach (int k in new[] { 1, 2 })
            File.WriteAllBytes(Path.Combine(root, $"ckpt-{k}.safetensors"), StudentTraining.FineTune(start, context, added, original, new FineTuneOptions(Steps: 2, LearningRate: 1e-2f, BatchSize: 8), k, null, default)
                .Serialize(new Dictionary<string, string> { ["made_for"] = $"iteration {k}" }));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(root, "ckpt-1.safetensors")), File.ReadAllBytes(Path.Combine(root, "ckpt-2.safetensors")));

        string Config(string script) => Yaml(seed: 7).Replace("train_steps: 6 }", "train_steps: 6, distill: 0 }", StringComparison.Ordinal) +
            $"\ntrainer:\n  backend: command\n  command: [sh, -c, \"{script}\"]\n  timeout_s: 120\n";
        string script = $"echo iteration {{iteration}} steps {{steps}} seed {{seed}} from {{init_checkpoint}}; cp {root}/ckpt-{{iteration}}.safetensors {{output_dir}}/model.safetensors";
        string output = Path.Combine(root, "out");
        var (result, notes) = await Run(output, Config(script));

        Assert.Equal(2, result.Report.Iterations.Count);
        Assert.True(File.Exists(Path.Combine(output, "report.md")));
        foreach (int k in new[] { 1, 2 })
        {
            string dir = Path.Combine(output, $"iter-{k}"), trainer = Path.Combine(dir, "trainer");
            var train = System.Text.Json.JsonSerializer.Deserialize<TrainOutput>(File.ReadAllText(Path.Combine(dir, "train.json")), CampaignJson.Options)!;
            byte[] wanted = File.ReadAllBytes(Path.Combine(root, $"ckpt-{k}.safetensors"));
            Assert.Equal(wanted, File.ReadAllBytes(Path.Combine(output, train.Checkpoint)));
            Assert.Equal(wanted, File.ReadAllBytes(Path.Combine(trainer, "output", "model.safetensors")));
            Assert.True(File.Exists(Path.Combine(dir, "eval.json")), $"iteration {k} was not measured");
            // The command started from the checkpoint the campaign promoted so far.
            string promotedBefore = k == 1 ? "base.safetensors"
                : System.Text.Json.JsonSerializer.Deserialize<MeasureOutput>(File.ReadAllText(Path.Combine(output, "iter-1", "measure.json")), CampaignJson.Options)!.PromotedCheckpoint;
            Assert.Equal(File.ReadAllBytes(Path.Combine(output, promotedBefore)), File.ReadAllBytes(Path.Combine(trainer, "init.safetensors")));
            string log = File.ReadAllText(Path.Combine(trainer, "command.log"));
            Assert.StartsWith($"iteration {k} steps {train.Steps} seed ", log, StringComparison.Ordinal);
            Assert.Contains($"from {Path.Combine(trainer, "init.safetensors")}", log, StringComparison.Ordinal);
            Assert.Contains(notes, n => n.StartsWith($"Iteration {k}: train: iteration {k} steps {train.Steps}", StringComparison.Ordinal));

            // LLaMA-Factory's side: dataset_info.json names a sharegpt file that holds this iteration's samples, images on disk.
            string data = Path.Combine(trainer, "data");
            var entry = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(data, "dataset_info.json")))![$"failuresynth_iter_{k}"]!;
            Assert.Equal("sharegpt", (string?)entry["formatting"]);
            var records = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(data, (string)entry["file_name"]!)))!.AsArray();
            Assert.True(train.Examples > 0 && records.Count >= train.Examples, $"iteration {k}: {records.Count} records for {train.Examples} prescribed samples");
            Assert.All(records, r =>
            {
                int turns = r!["conversations"]!.AsArray().Count;
                Assert.True(turns >= 2 && turns % 2 == 0, $"{turns} turns");
                Assert.True(File.Exists(Path.Combine(data, (string)r["images"]![0]!)));
            });
            Assert.Equal(records.Count, FailureSynth.Datasets.DatasetReader.LoadLlamaFactoryInfo(Path.Combine(data, "dataset_info.json")).Samples.Count);
            var yaml = new YamlDotNet.RepresentationModel.YamlStream();
            yaml.Load(new StringReader(File.ReadAllText(Path.Combine(trainer, "train.yaml"))));
            var fields = (YamlDotNet.RepresentationModel.YamlMappingNode)yaml.Documents[0].RootNode;
            Assert.Equal($"failuresynth_iter_{k}", fields["dataset"].ToString());
            Assert.Equal(data, fields["dataset_dir"].ToString());
            Assert.Equal(train.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture), fields["max_steps"].ToString());
        }

        // A changed command (a fixed one, after a failure) resumes the folder; any other trainer key is a different campaign.
        var (again, resumed) = await Run(output, Config("true; " + script));
        Assert.Contains(resumed, n => n.Contains("trainer.command or trainer.timeout_s changed", StringComparison.Ordinal));
        Assert.Contains(resumed, n => n.Contains("Iteration 2: train already done", StringComparison.Ordinal));
        Assert.Equal(result.Report.DatasetManifestSha256, again.Report.DatasetManifestSha256);
        var refused = await Assert.ThrowsAsync<CampaignConfigException>(() => Run(output, Config(script) + "  template: llava\n"));
        Assert.Contains("different config", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_different_config_in_the_same_output_folder_is_refused()
    {
        string dir = Path.Combine(fixture.Root, "guard");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"name\": \"other\"}\n");
        var e = await Assert.ThrowsAsync<CampaignConfigException>(() => Run(dir, Yaml()));
        Assert.Contains("different config", e.Message);
    }

    [Fact]
    public async Task An_experiment_folder_remakes_its_base_evaluation_when_the_test_recipe_changed()
    {
        string output = Path.Combine(fixture.Root, "lab-resume");
        string Config(int testCount) => Yaml().Replace("count: 150, seed: 2", $"count: {testCount}, seed: 2", StringComparison.Ordinal);
        var notes = new List<string>();

        var first = await FailureSynth.Loop.Experiments.Lab.OpenAsync(CampaignConfig.Parse(Config(150), "a.yaml"), output, fixture.Root, null, notes.Add, default);
        var same = await FailureSynth.Loop.Experiments.Lab.OpenAsync(CampaignConfig.Parse(Config(150), "a.yaml"), output, fixture.Root, null, notes.Add, default);
        Assert.Equal(150, first.BaseReport.Samples);
        Assert.Equal(150, same.BaseReport.Samples);
        Assert.DoesNotContain(notes, n => n.Contains("made again", StringComparison.Ordinal));

        var changed = await FailureSynth.Loop.Experiments.Lab.OpenAsync(CampaignConfig.Parse(Config(100), "b.yaml"), output, fixture.Root, null, notes.Add, default);
        Assert.Equal(100, changed.BaseReport.Samples);
        Assert.Contains(notes, n => n.Contains("made again", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Budget_curve_runs_three_arms_at_each_size_and_reports_the_margin_over_random_synthetic()
    {
        string output = Path.Combine(fixture.Root, "budget-curve");
        var lab = await FailureSynth.Loop.Experiments.Lab.OpenAsync(CampaignConfig.Parse(Yaml(seed: 5), "d.yaml"), output, fixture.Root, null, null, default);
        var report = await FailureSynth.Loop.Experiments.Experiments.BudgetCurveAsync(lab, 1, [20, 40], "budget-curve --seeds 1", default);
        Assert.Equal(["random-natural n=20", "random-natural n=40", "random-synthetic n=20", "random-synthetic n=40", "targeted n=20", "targeted n=40"],
            report.Rows.Select(r => $"{r.Arm} n={r.N}").Order(StringComparer.Ordinal));
        Assert.All(report.Rows, r => Assert.InRange(r.Mean, 0.0, 1.0));
        Assert.Contains(report.Findings, f => f.StartsWith("N=40: targeted ", StringComparison.Ordinal) && f.Contains("vs random-synthetic", StringComparison.Ordinal));
        string json = File.ReadAllText(Path.Combine(output, "report.json"));
        Assert.Contains("\"arm\": \"random-synthetic\"", json, StringComparison.Ordinal);
        Assert.Contains("budget-curve", FailureSynth.Loop.Experiments.Experiments.Names);
    }

    [Fact]
    public void A_campaign_names_a_profile_file_relative_to_itself_and_a_bad_one_is_refused_with_its_key()
    {
        string folder = Path.Combine(fixture.Root, "profiles");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "vertical.yaml"), "name: vertical\nrelations: { left: 0, right: 0 }\n");
        File.WriteAllText(Path.Combine(folder, "bad.yaml"), "name: bad\nrelations: { up: 1 }\n");
        string campaign = Path.Combine(folder, "c.yaml");
        File.WriteAllText(campaign, Yaml().Replace("validation: { profile: balanced", "validation: { profile: vertical.yaml", StringComparison.Ordinal));
        var config = CampaignConfig.Load(campaign);
        Assert.Equal(Path.Combine(folder, "vertical.yaml"), config.Validation.Profile);
        var generator = new WorldGenerator(Profiles.Resolve(config.Validation.Profile));
        Assert.All(Enumerable.Range(0, 200).Select(i => generator.Generate(1, i)), s => Assert.DoesNotContain(s.Skills, k => k is "relate/left" or "relate/right"));

        File.WriteAllText(campaign, Yaml().Replace("test: { profile: balanced", "test: { profile: bad.yaml", StringComparison.Ordinal));
        var ex = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Load(campaign));
        Assert.Contains("test.profile: ", ex.Message);
        Assert.Contains("unknown key 'relations.up'", ex.Message);
        File.WriteAllText(campaign, Yaml().Replace("test: { profile: balanced", "test: { profile: missing.yaml", StringComparison.Ordinal));
        Assert.Contains("test.profile", Assert.Throws<CampaignConfigException>(() => CampaignConfig.Load(campaign)).Message);
    }

    [Fact]
    public async Task An_experiment_rerun_takes_its_arms_from_the_run_cache_and_says_how_long_they_took()
    {
        string output = Path.Combine(fixture.Root, "lab-cache");
        string yaml = Yaml(seed: 9).Replace($"checkpoint: {fixture.Checkpoint} ", $"checkpoint: {fixture.Checkpoint}, cache: {Path.Combine(fixture.Root, "cache-for-reruns")} ", StringComparison.Ordinal);
        Assert.Contains("cache-for-reruns", yaml, StringComparison.Ordinal);
        var config = CampaignConfig.Parse(yaml, "c.yaml");
        async Task<FailureSynth.Loop.Experiments.ExperimentReport> RunAblations(List<string> notes)
        {
            var lab = await FailureSynth.Loop.Experiments.Lab.OpenAsync(config, output, fixture.Root, null, notes.Add, default);
            return await FailureSynth.Loop.Experiments.Experiments.RunAsync("ablations", lab, 1, "ablations --seeds 1", default);
        }

        var firstNotes = new List<string>();
        var first = await RunAblations(firstNotes);
        Assert.DoesNotContain(firstNotes, n => n.Contains("taken from the run cache", StringComparison.Ordinal));
        Assert.DoesNotContain(first.Notes, n => n.Contains("run cache", StringComparison.Ordinal));

        var secondNotes = new List<string>();
        var second = await RunAblations(secondNotes);
        Assert.Equal(4, secondNotes.Count(n => n.Contains("taken from the run cache", StringComparison.Ordinal)));
        Assert.Equal(first.Rows.Select(r => (r.Arm, r.Mean)), second.Rows.Select(r => (r.Arm, r.Mean)));
        Assert.Contains(second.Notes, n => n.StartsWith("4 arm run(s) were taken from the run cache; they took ", StringComparison.Ordinal));
        Assert.Contains("taken from the run cache", File.ReadAllText(Path.Combine(output, "report.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Locate_accuracy_writes_one_line_per_failure_and_its_rows_agree_with_those_lines()
    {
        string output = Path.Combine(fixture.Root, "lab-locate");
        var lab = await FailureSynth.Loop.Experiments.Lab.OpenAsync(CampaignConfig.Parse(Yaml(seed: 11), "l.yaml"), output, fixture.Root, null, null, default);
        var report = await FailureSynth.Loop.Experiments.Experiments.RunAsync("locate-accuracy", lab, 2, "locate-accuracy --seeds 2", default);

        var lines = File.ReadAllLines(Path.Combine(output, "located.jsonl"))
            .Select(l => System.Text.Json.JsonSerializer.Deserialize<FailureSynth.Loop.Experiments.LocatedFailureLine>(l, CampaignJson.Options)!).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.DoesNotContain('\n', l.Question));
        foreach (var row in report.Rows)
        {
            Assert.Equal(lines.Count, row.N);
            Assert.All(lines, l =>
            {
                Assert.InRange(l.Oracle, 1, l.Steps.Count);
                Assert.InRange(l.Located[row.Arm].Index, 1, l.Steps.Count);
                // The oracle's step is the first whose answer differs from the exact one.
                Assert.False(string.Equals(l.Steps[l.Oracle - 1].Exact, l.Steps[l.Oracle - 1].Answer.Trim(), StringComparison.OrdinalIgnoreCase));
                Assert.All(l.Steps.Take(l.Oracle - 1), s => Assert.Equal(s.Exact, s.Answer.Trim(), ignoreCase: true));
            });
            for (int seed = 1; seed <= 2; seed++)
            {
                var ofSeed = lines.Where(l => l.Seed == seed).ToList();
                double accuracy = (double)ofSeed.Count(l => l.Located[row.Arm].Index == l.Oracle) / Math.Max(1, ofSeed.Count);
                Assert.Equal(Math.Round(accuracy, 6), row.Seeds[seed - 1], 6);
            }
        }
        Assert.All(lines, l => Assert.NotNull(l.Located["answer-switch"].Margins));
        // The base-rate line counts the same failures: the oracle's share of step 1 and each arm's.
        string Share(Func<FailureSynth.Loop.Experiments.LocatedFailureLine, bool> f) =>
            (100.0 * lines.Count(f) / lines.Count).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        string baseRate = Assert.Single(report.Findings, f => f.StartsWith("Naming step 1 every time", StringComparison.Ordinal));
        Assert.Contains($"would score {Share(l => l.Oracle == 1)} %", baseRate, StringComparison.Ordinal);
        foreach (var row in report.Rows)
            Assert.Contains($"{row.Arm} {Share(l => l.Located[row.Arm].Index == 1)} %", baseRate, StringComparison.Ordinal);

        // The ceiling line: per pattern of which margins exceed the config's delta, the oracle's most common step, summed.
        double delta = lab.Config.Locate.Delta;
        var byPattern = lines.GroupBy(l => string.Join(",", l.Located["answer-switch"].Margins!.Select(m => m > delta ? 1 : 0)) + "|" + l.Steps.Count).ToList();
        int fitted = byPattern.Sum(g => g.GroupBy(l => l.Oracle).Max(o => o.Count()));
        string ceiling = Assert.Single(report.Findings, f => f.StartsWith("Ceiling of the answer-switch signal", StringComparison.Ordinal));
        Assert.Contains($"each of the {byPattern.Count} patterns", ceiling, StringComparison.Ordinal);
        Assert.Contains($"would score {(100.0 * fitted / lines.Count).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} %", ceiling, StringComparison.Ordinal);
        // No rule on the same signal does better than the fitted map, answer-switch's own included.
        Assert.True(fitted >= lines.Count(l => l.Located["answer-switch"].Index == l.Oracle));
    }

    [Fact]
    public async Task Locate_accuracy_sweeps_at_the_configured_teacher_trust_even_off_the_default_grid()
    {
        string output = Path.Combine(fixture.Root, "lab-locate-trust");
        string yaml = Yaml(seed: 11).Replace("teacher: { prior_samples: 3000 }", "teacher: { prior_samples: 3000, trust: 0.995 }", StringComparison.Ordinal);
        Assert.Contains("trust: 0.995", yaml, StringComparison.Ordinal);
        var lab = await FailureSynth.Loop.Experiments.Lab.OpenAsync(CampaignConfig.Parse(yaml, "l.yaml"), output, fixture.Root, null, null, default);
        var report = await FailureSynth.Loop.Experiments.Experiments.RunAsync("locate-accuracy", lab, 1, "locate-accuracy --seeds 1", default);

        Assert.Contains(report.Notes, n => n.Contains("its best at the teacher's trust 0.995 ", StringComparison.Ordinal) && n.Contains("teacher trust 0.995)", StringComparison.Ordinal));
    }
}

public sealed class CampaignConfigTests
{
    [Fact]
    public void The_demo_campaign_file_is_valid()
    {
        string path = Path.Combine(RepoRoot(), "campaigns", "demo.yaml");
        var config = CampaignConfig.Load(path);
        Assert.Equal("demo", config.Name);
        Assert.Equal(2, config.Iterations);
        Assert.Empty(config.Problems());
    }

    [Fact]
    public void Every_shipped_campaign_file_is_valid_and_the_coarse_one_reads_its_profile_file()
    {
        string[] files = Directory.GetFiles(Path.Combine(RepoRoot(), "campaigns"), "*.yaml");
        Assert.Contains(files, f => Path.GetFileName(f) == "coarse.yaml");
        foreach (string path in files)
        {
            var config = CampaignConfig.Load(path);
            Assert.True(config.Problems().Count == 0, $"{path}: {string.Join("; ", config.Problems())}");
            Assert.Empty(CampaignConfigKeys.Check(File.ReadAllText(path)));
        }

        var coarse = CampaignConfig.Load(Path.Combine(RepoRoot(), "campaigns", "coarse.yaml"));
        var profile = Profiles.Resolve(Path.Combine(RepoRoot(), "campaigns", coarse.Student.Base.Profile));
        Assert.Equal("base-coarse", profile.Name);
        string written = ProfileFile.Write(profile);
        Assert.Contains("arith_operations: { \"sum\": 1, \"diff\": 0.02 }", written, StringComparison.Ordinal);
        Assert.Contains("relations: { \"left\": 1, \"right\": 1, \"above\": 1, \"below\": 1 }", written, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_is_named_with_its_line()
    {
        var e = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("name: x\nbudget:\n  sampels: 10\n", "bad.yaml"));
        Assert.Contains("bad.yaml", e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("sampels", e.Message);
    }

    [Fact]
    public void Every_bad_value_is_reported_with_its_key()
    {
        var e = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse(
            "iterations: 0\nprescription: guess\ncontrast: 1.5\nlocate: { method: magic, bias: 1.5 }\nbudget: { samples: 0, train_steps: 0 }\ntest: { profile: nope, count: 10 }\n", "bad.yaml"));
        foreach (string key in new[] { "iterations", "prescription 'guess'", "contrast must be 0..0.9", "locate.method 'magic'", "locate.bias", "budget.samples", "train_steps", "test.profile 'nope'" })
            Assert.Contains(key, e.Message);
    }

    [Fact]
    public void A_bad_distillation_weight_is_named()
    {
        Assert.Contains("budget.distill must be between 0 (off) and 100 (got -0.5)",
            Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("budget: { distill: -0.5 }\n", "bad.yaml")).Message);
        Assert.Contains("budget.distill needs replay > 0",
            Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("budget: { replay: 0, distill: 1 }\n", "bad.yaml")).Message);
        Assert.Equal(2.5, CampaignConfig.Parse("budget: { distill: 2.5 }\n", "ok.yaml").FineTune.Distill);
    }

    [Fact]
    public void Frozen_norm_statistics_are_off_by_default_change_the_run_recipe_only_when_on_and_take_only_a_boolean()
    {
        Assert.False(CampaignConfig.Parse("name: a\n", "ok.yaml").FineTune.FreezeNorm);
        Assert.True(CampaignConfig.Parse("budget: { freeze_norm: true }\n", "ok.yaml").FineTune.FreezeNorm);
        Assert.Contains("line 1", Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("budget: { freeze_norm: maybe }\n", "bad.yaml")).Message);

        // Off, the setting is left out of the recipe, so arm runs cached before it existed keep their keys.
        static string Recipe(string yaml) => FailureSynth.Loop.Experiments.Lab.RunRecipe(CampaignConfig.Parse(yaml, "r.yaml"), [1, 2, 3]);
        string plain = Recipe("budget: { distill: 1.0 }\n");
        Assert.DoesNotContain("freeze_norm", plain, StringComparison.Ordinal);
        Assert.Equal(plain, Recipe("budget: { distill: 1.0, freeze_norm: false }\n"));
        Assert.NotEqual(plain, Recipe("budget: { distill: 1.0, freeze_norm: true }\n"));
    }

    [Fact]
    public void Keep_start_is_off_by_default_changes_the_run_recipe_only_when_on_and_must_stay_below_one()
    {
        Assert.Equal(0, CampaignConfig.Parse("name: a\n", "ok.yaml").FineTune.KeepStart);
        Assert.Equal(0.35, CampaignConfig.Parse("budget: { keep_start: 0.35 }\n", "ok.yaml").FineTune.KeepStart);
        Assert.Contains("budget.keep_start must be at least 0 (off) and below 1",
            Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("budget: { keep_start: 1 }\n", "bad.yaml")).Message);
        Assert.Contains("(got -0.1)",
            Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("budget: { keep_start: -0.1 }\n", "bad.yaml")).Message);

        static string Recipe(string yaml) => FailureSynth.Loop.Experiments.Lab.RunRecipe(CampaignConfig.Parse(yaml, "r.yaml"), [1, 2, 3]);
        string plain = Recipe("budget: { distill: 1.0 }\n");
        Assert.DoesNotContain("keep_start", plain, StringComparison.Ordinal);
        Assert.Equal(plain, Recipe("budget: { distill: 1.0, keep_start: 0 }\n"));
        Assert.NotEqual(plain, Recipe("budget: { distill: 1.0, keep_start: 0.35 }\n"));
    }

    [Fact]
    public void Guard_is_off_by_default_changes_the_run_recipe_only_when_on_and_is_a_share_of_the_replay()
    {
        Assert.Equal(0, CampaignConfig.Parse("name: a\n", "ok.yaml").FineTune.Guard);
        Assert.Equal(0.5, CampaignConfig.Parse("budget: { guard: 0.5 }\n", "ok.yaml").FineTune.Guard);
        Assert.Contains("budget.guard must be between 0 (off) and 1, the share of the replay given to the skills a probe fine-tune forgets (got 1.5)",
            Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("budget: { guard: 1.5 }\n", "bad.yaml")).Message);
        Assert.Contains("budget.guard needs replay > 0",
            Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("budget: { guard: 0.5, replay: 0, distill: 0 }\n", "bad.yaml")).Message);

        static string Recipe(string yaml) => FailureSynth.Loop.Experiments.Lab.RunRecipe(CampaignConfig.Parse(yaml, "r.yaml"), [1, 2, 3]);
        string plain = Recipe("budget: { distill: 1.0 }\n");
        Assert.DoesNotContain("guard", plain, StringComparison.Ordinal);
        Assert.Equal(plain, Recipe("budget: { distill: 1.0, guard: 0 }\n"));
        Assert.NotEqual(plain, Recipe("budget: { distill: 1.0, guard: 0.5 }\n"));
    }

    [Fact]
    public void A_skill_counts_as_forgotten_only_when_its_fall_is_more_than_a_point_and_more_than_noise()
    {
        Assert.True(StudentTraining.GuardCounts(0.97, 0.89, 490));   // query/size=large in the demo: 8 points on 490 questions
        Assert.False(StudentTraining.GuardCounts(0.95, 0.916, 70));  // 3.4 points on 70 questions: two or three answers
        Assert.False(StudentTraining.GuardCounts(0.60, 0.595, 5000)); // significant, but half a point
        Assert.False(StudentTraining.GuardCounts(1.0, 0.5, 49));     // too few questions to act on
        Assert.True(StudentTraining.GuardCounts(1.0, 0.9, 400));     // a skill the start answered perfectly still has a noise floor
        Assert.False(StudentTraining.GuardCounts(0.8, 0.85, 1000));  // a rise is no fall
    }

    [Fact]
    public void The_guarded_replay_is_split_over_the_fallen_skills_by_how_far_each_fell()
    {
        var shares = StudentTraining.Apportion(100, new Dictionary<string, double> { ["b"] = 0.02, ["a"] = 0.06, ["c"] = 0.02 });
        Assert.Equal([("a", 60), ("b", 20), ("c", 20)], shares);
        // Largest remainders: 10 over three equal falls gives the extra one to the first key.
        Assert.Equal([("x", 4), ("y", 3), ("z", 3)], StudentTraining.Apportion(10, new Dictionary<string, double> { ["z"] = 1, ["y"] = 1, ["x"] = 1 }));
        Assert.Equal([("x", 0)], StudentTraining.Apportion(0, new Dictionary<string, double> { ["x"] = 1 }));
    }

    [Fact]
    public void An_arm_run_recipe_ignores_names_and_places_but_not_settings_the_base_student_or_the_teacher_model()
    {
        static string Recipe(string yaml, byte[] checkpoint) => FailureSynth.Loop.Experiments.Lab.RunRecipe(CampaignConfig.Parse(yaml, "r.yaml"), checkpoint);
        byte[] student = [1, 2, 3], other = [1, 2, 4];
        string reference = Recipe("name: a\nstudent: { cache: out/cache }\nbudget: { distill: 1.0 }\n", student);

        Assert.Equal(reference, Recipe("name: b\nstudent: { cache: /tmp/elsewhere }\nbudget: { distill: 1.0 }\n", student));
        Assert.Equal(reference, Recipe("name: a\nstudent: { checkpoint: copies/base.safetensors }\nbudget: { distill: 1.0 }\n", student));
        Assert.NotEqual(reference, Recipe("name: a\nstudent: { cache: out/cache }\nbudget: { distill: 0.5 }\n", student));
        Assert.NotEqual(reference, Recipe("name: a\nstudent: { cache: out/cache, base_steps: 2000 }\nbudget: { distill: 1.0 }\n", student));
        Assert.NotEqual(reference, Recipe("name: a\nstudent: { cache: out/cache }\nbudget: { distill: 1.0 }\n", other));
        Assert.Contains("\"base_student_sha256\"", reference, StringComparison.Ordinal);
        Assert.Equal(FailureSynth.TinyVlm.Training.StudentTrainer.RecipeVersion, (int)System.Text.Json.Nodes.JsonNode.Parse(reference)!["trainer"]!);
        // Arms locate and diagnose with the embedded teacher: a run scored with an older teacher model is not reused.
        Assert.Equal(FailureSynth.Loop.Teacher.EmbeddedTeacher.ModelVersion, (int)System.Text.Json.Nodes.JsonNode.Parse(reference)!["teacher_model"]!);
        Assert.DoesNotContain("out/cache", reference, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_named()
    {
        var e = Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse("seed: seven\n", "bad.yaml"));
        Assert.Contains("line 1", e.Message);
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FailureSynth.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
    }
}
