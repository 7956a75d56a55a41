using System.Text.Json.Nodes;
using FailureSynth.Datasets.ShapesWorld;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Common;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Teacher;
using FailureSynth.Serving;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using Microsoft.AspNetCore.Builder;
using Xunit.Abstractions;

namespace FailureSynth.Backends.Tests;

/// <summary>
/// A campaign on dataset files: VQA v2 validation and test files in the official abstract-scenes layout (written by
/// <c>world generate --format vqav2</c>'s exporter), the student served over the OpenAI protocol and told to load each
/// iteration's weights through <c>/v1/load_lora_adapter</c>, the teacher served too and reached through Semantic Kernel.
/// </summary>
public sealed class ExternalCampaignTests(SmallStudentFixture fixture, ITestOutputHelper output) : IClassFixture<SmallStudentFixture>
{
    [Fact]
    public async Task A_campaign_on_VQA_v2_files_runs_two_iterations_against_a_served_student_that_loads_each_fine_tune()
    {
        string data = Path.Combine(fixture.Root, "vqa");
        foreach (var (split, seed) in new[] { ("val2015", 101L), ("test2015", 2L) })
            ShapesWorldExporter.Export(new ShapesWorldExportRequest("balanced", 80, seed, Path.Combine(data, split), Format: ShapesWorldFormat.VqaV2, Split: split));
        var context = ComputeContext.Create(2, preferNativeBlas: false);
        var start = TinyVlmStudent.Load(fixture.Checkpoint, context);
        var loads = new List<(string Name, string Path)>();
        await using WebApplication student = await OpenAIEndpoints.StartAsync(new StudentChatModel(start, "base-student"), 0,
            load: (name, path, _) =>
            {
                lock (loads) loads.Add((name, path));
                return Task.FromResult<IChatModel>(new StudentChatModel(TinyVlmStudent.Load(path, context), name));
            });
        var embedded = new EmbeddedTeacher(new EmbeddedTeacherOptions(PriorSamples: 3000));
        var programs = QuestionPrograms.Load([Path.Combine(data, "val2015"), Path.Combine(data, "test2015")]);
        await using WebApplication teacher = await OpenAIEndpoints.StartAsync(new TeacherChatModel(embedded, null, programs), 0);
        string Url(WebApplication app) => OpenAIEndpoints.BaseAddress(app) + "v1";

        var config = CampaignConfig.Parse($$"""
            name: vqa-files
            seed: 3
            threads: 2
            iterations: 2
            student: { checkpoint: {{fixture.Checkpoint}}, backend: openai, endpoint: '{{Url(student)}}', model: base-student, reload: load-lora-adapter }
            validation: { file: '{{Path.Combine(data, "val2015", "OpenEnded_abstract_v002_val2015_questions.json")}}' }
            test: { file: '{{Path.Combine(data, "test2015", "OpenEnded_abstract_v002_test2015_questions.json")}}', count: 60, seed: 5 }
            budget: { failures: 20, samples: 30, train_steps: 3 }
            teacher: { prior_samples: 3000, backend: semantic-kernel, endpoint: '{{Url(teacher)}}', model: '{{embedded.Name}}' }
            """, "vqa-files.yaml");
        string outDir = Path.Combine(fixture.Root, "vqa-files");
        CampaignResult result;
        using (var backends = RemoteBackends.For(config, new InMemoryCallCache()))
        {
            result = await backends.Runner(config, outDir).RunAsync(null, default);
            Assert.All(backends.Teacher!.Log.Summary(), f => Assert.Equal(0, f.Rejected + f.Failed));
        }

        var report = result.Report;
        Assert.Equal(2, report.Iterations.Count);
        Assert.True(report.DatasetSamples > 0);
        Assert.True(File.Exists(Path.Combine(result.DatasetDirectory, "manifest.json")));
        // Each iteration's fine-tune was loaded once, by a name carrying the campaign, the iteration and the weights' hash,
        // from the checkpoint the train stage wrote.
        Assert.Equal(2, loads.Count);
        for (int k = 1; k <= 2; k++)
        {
            var trained = CampaignJson.Read<TrainOutput>(Path.Combine(outDir, $"iter-{k}", "train.json"));
            Assert.StartsWith($"vqa-files-iter-{k}-", loads[k - 1].Name, StringComparison.Ordinal);
            Assert.Equal(Path.Combine(outDir, trained.Checkpoint), loads[k - 1].Path);
        }
        // The second iteration asks the model the first one promoted (or the starting one).
        var measured1 = CampaignJson.Read<MeasureOutput>(Path.Combine(outDir, "iter-1", "measure.json"));
        var evaluate2 = CampaignJson.Read<EvaluateOutput>(Path.Combine(outDir, "iter-2", "evaluate.json"));
        Assert.Equal(measured1.Measurement.Promoted ? loads[0].Name : "base-student", evaluate2.ModelVersion);
        Assert.Equal(measured1.PromotedVersion, evaluate2.ModelVersion);
        // Scored by VQA's rule on the drawn 60 test questions, per answer type.
        var baseEval = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "base-eval.json")))!;
        Assert.Equal(60, baseEval["samples"]!.GetValue<int>());
        Assert.Contains("vqa-accuracy", baseEval["data"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("yes/no", baseEval["per_family"]!.AsObject().Select(p => p.Key));
        // Failures reach the teacher as text only; the located step is the whole question; skills come back as groups.
        var located = CampaignJson.Read<LocateOutput>(Path.Combine(outDir, "iter-1", "locate.json"));
        Assert.All(located.Located, l => Assert.Equal(CampaignRunner.WholeQuestion, l.Step.Method));
        var groups = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, CampaignRunner.SkillGroupsFile)))!.AsArray();
        Assert.NotEmpty(groups);
        Assert.Equal(located.Located.Count + CampaignJson.Read<LocateOutput>(Path.Combine(outDir, "iter-2", "locate.json")).Located.Count,
            groups.Sum(g => g!["failures"]!.GetValue<int>()));
        output.WriteLine($"{report.DatasetSamples} samples, {groups.Count} skill groups, test {report.BaseTestAccuracy:0.000} -> {report.FinalTestAccuracy:0.000}, loaded {string.Join(", ", loads.Select(l => l.Name))}");

        // A rerun into the same folder resumes every stage: the same dataset, and nothing loaded again.
        using (var backends = RemoteBackends.For(config, new InMemoryCallCache()))
        {
            var again = await backends.Runner(config, outDir).RunAsync(null, default);
            Assert.Equal(report.DatasetManifestSha256, again.Report.DatasetManifestSha256);
        }
        Assert.Equal(2, loads.Count);
    }

    [Fact]
    public async Task A_campaign_on_ScienceQA_files_retrieves_from_a_pool_file_by_BM25()
    {
        string data = Path.Combine(fixture.Root, "sqa");
        foreach (var (split, seed) in new[] { ("val", 101L), ("test", 2L), ("train", 77L) })
            ShapesWorldExporter.Export(new ShapesWorldExportRequest("balanced", split == "train" ? 200 : 60, seed, Path.Combine(data, split), Form: World.Questions.QuestionForm.Choice,
                Format: ShapesWorldFormat.ScienceQa, Split: split));
        var context = ComputeContext.Create(2, preferNativeBlas: false);
        await using WebApplication student = await OpenAIEndpoints.StartAsync(new StudentChatModel(TinyVlmStudent.Load(fixture.Checkpoint, context), "base-student"), 0,
            load: (name, path, _) => Task.FromResult<IChatModel>(new StudentChatModel(TinyVlmStudent.Load(path, context), name)));
        var embedded = new EmbeddedTeacher(new EmbeddedTeacherOptions(PriorSamples: 3000));
        var programs = QuestionPrograms.Load([.. new[] { "val", "test", "train" }.Select(s => Path.Combine(data, s))]);
        await using WebApplication teacher = await OpenAIEndpoints.StartAsync(new TeacherChatModel(embedded, null, programs), 0);
        string Url(WebApplication app) => OpenAIEndpoints.BaseAddress(app) + "v1";
        var config = CampaignConfig.Parse($$"""
            name: sqa-files
            seed: 3
            threads: 2
            iterations: 1
            prescription: retrieve
            student: { checkpoint: {{fixture.Checkpoint}}, backend: openai, endpoint: '{{Url(student)}}', model: base-student, reload: load-lora-adapter }
            validation: { file: '{{Path.Combine(data, "val", "problems.json")}}' }
            test: { file: '{{Path.Combine(data, "test", "problems.json")}}' }
            pool: { file: '{{Path.Combine(data, "train", "problems.json")}}', count: 0 }
            budget: { failures: 20, samples: 24, train_steps: 3 }
            teacher: { prior_samples: 3000, backend: semantic-kernel, endpoint: '{{Url(teacher)}}', model: '{{embedded.Name}}' }
            """, "sqa-files.yaml");
        string outDir = Path.Combine(fixture.Root, "sqa-files");
        using var backends = RemoteBackends.For(config, new InMemoryCallCache());
        var result = await backends.Runner(config, outDir).RunAsync(null, default);
        var prescribed = CampaignJson.Read<PrescribeOutput>(Path.Combine(outDir, "iter-1", "prescribe.json"));
        Assert.Equal("retrieve", prescribed.Kind);
        Assert.Equal(24, prescribed.Accepted.Count);
        Assert.All(prescribed.Accepted, s => Assert.Equal("retrieved", s.Source));
        // The index texts came from the teacher's describe-skill calls, once per pool question, and were kept for a resume.
        Assert.Contains(backends.Teacher!.Log.Summary(), f => f.Function == "describe-skill" && f.Calls == 200);
        Assert.Equal(200, JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "pool-skills.json")))!.AsObject().Count);
        var lines = File.ReadAllLines(Path.Combine(result.DatasetDirectory, "provenance.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(24, lines.Count);
        Assert.All(lines, l => Assert.Equal("pool.file", l["provenance"]!["image"]!["source"]!.GetValue<string>()));
        // Scored by exact choice, per ScienceQA skill.
        Assert.Contains("exact-choice", JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "base-eval.json")))!["data"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_teacher_judges_a_free_text_answer_over_the_wire()
    {
        var embedded = new EmbeddedTeacher(new EmbeddedTeacherOptions(PriorSamples: 1000));
        await using WebApplication server = await OpenAIEndpoints.StartAsync(new TeacherChatModel(embedded), 0);
        var endpoint = new ModelEndpoint("teacher", "semantic-kernel", new Uri(OpenAIEndpoints.BaseAddress(server) + "v1"), embedded.Name, null, TimeSpan.FromSeconds(30), 2);
        using var sk = new SemanticKernelTeacher(endpoint, new InMemoryCallCache());
        var question = new Loop.Contracts.TeacherQuestion("What colour is the large circle?", null, null);
        var same = await sk.MatchAnswerAsync(question, "gray", "The grey.", default);
        Assert.True(same.Same, same.Reason);
        var different = await sk.MatchAnswerAsync(question, "gray", "blue", default);
        Assert.False(different.Same);
        Assert.Null(different.Problem);
        Assert.Contains(sk.Log.Summary(), f => f.Function == "match-answer" && f.Calls == 2 && f.Rejected == 0);
    }
}
