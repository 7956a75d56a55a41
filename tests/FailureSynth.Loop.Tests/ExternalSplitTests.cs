using FailureSynth.Datasets.ShapesWorld;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Teacher;
using FailureSynth.World.Skills;

namespace FailureSynth.Loop.Tests;

/// <summary>Campaigns on dataset files: the config's checks, reading and scoring a split, and the free-text skill groups.</summary>
public sealed class ExternalSplitTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fs-external-" + Guid.NewGuid().ToString("N"));

    public ExternalSplitTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private string Export(ShapesWorldFormat format, string split, int count = 40, long seed = 11)
    {
        string dir = Path.Combine(_root, $"{format}-{split}");
        ShapesWorldExporter.Export(new ShapesWorldExportRequest("balanced", count, seed, dir, Form: format == ShapesWorldFormat.ScienceQa ? World.Questions.QuestionForm.Choice : World.Questions.QuestionForm.Open,
            Format: format, Split: split));
        return format == ShapesWorldFormat.ScienceQa ? Path.Combine(dir, "problems.json") : Path.Combine(dir, $"OpenEnded_abstract_v002_{split}_questions.json");
    }

    private static string Served(string validation, string test, string extra = "") => $$"""
        name: ext
        iterations: 2
        student: { checkpoint: base.safetensors, backend: openai, endpoint: 'http://127.0.0.1:9/v1', model: m, reload: load-lora-adapter }
        validation: { file: '{{validation}}' }
        test: { file: '{{test}}' }
        {{extra}}
        """;

    [Fact]
    public void A_campaign_on_files_is_checked_key_by_key()
    {
        string val = Export(ShapesWorldFormat.VqaV2, "val2015");
        string test = Export(ShapesWorldFormat.VqaV2, "test2015");
        var ok = CampaignConfig.Parse(Served(val, test), "ok.yaml");
        Assert.True(ok.IsExternal);

        string Problems(string yaml) => Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse(yaml, "bad.yaml")).Message;
        Assert.Contains("validation and test must both be dataset files", Problems(Served(val, test).Replace($"test: {{ file: '{test}' }}", "test: { profile: balanced, count: 10, seed: 2 }", StringComparison.Ordinal)));
        Assert.Contains("validation.file 'nope.json' does not exist", Problems(Served(val, test).Replace($"'{val}'", "'nope.json'", StringComparison.Ordinal)).Replace(_root, "", StringComparison.Ordinal).Replace(Directory.GetCurrentDirectory() + "/", "", StringComparison.Ordinal));
        Assert.Contains("test.format 'coco' must be one of failuresynth, llava, vqav2, scienceqa, jsonl, llamafactory", Problems(Served(val, test).Replace($"test: {{ file: '{test}' }}", $"test: {{ file: '{test}', format: coco }}", StringComparison.Ordinal)));
        Assert.Contains("validation.images", Problems(Served(val, test).Replace($"validation: {{ file: '{val}' }}", $"validation: {{ file: '{val}', images: /no/such/folder }}", StringComparison.Ordinal)));
        Assert.Contains("need student.backend: openai", Problems($$"""
            validation: { file: '{{val}}' }
            test: { file: '{{test}}' }
            iterations: 1
            """));
        Assert.Contains("student.reload 'restart' must be one of load-lora-adapter", Problems(Served(val, test).Replace("reload: load-lora-adapter", "reload: restart", StringComparison.Ordinal)));
        // Two iterations of a served model need the endpoint to load what was trained.
        Assert.Contains("need student.reload (load-lora-adapter)", Problems(Served(val, test).Replace(", reload: load-lora-adapter", "", StringComparison.Ordinal)));
        Assert.Contains("student.reload goes with campaigns on dataset files", Problems(Served(val, test)
            .Replace($"validation: {{ file: '{val}' }}", "validation: { count: 10, seed: 1 }", StringComparison.Ordinal).Replace($"test: {{ file: '{test}' }}", "test: { count: 10, seed: 2 }", StringComparison.Ordinal)));
        Assert.Contains("validation.format and validation.images go with validation.file", Problems("validation: { count: 10, seed: 1, format: vqav2 }\n"));
        Assert.Contains("budget.uniform spreads samples over ShapesWorld's skill taxonomy", Problems(Served(val, test, "budget: { uniform: 0.5 }")));
        Assert.Contains("budget.guard chooses replayed ShapesWorld samples by skill", Problems(Served(val, test, "budget: { guard: 0.5 }")));
        // The campaign API never reads a caller's files.
        Assert.Contains("may not name dataset files", Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse(Served(val, test), "api.yaml", profileFiles: false)).Message);
    }

    [Fact]
    public void A_generated_campaign_serialises_as_before()
    {
        // The split classes gained file keys; a generated split's JSON (config.json, run caches) keeps exactly its three keys.
        var config = CampaignConfig.Parse("validation: { profile: balanced, count: 10, seed: 1 }\n", "gen.yaml");
        string json = System.Text.Json.JsonSerializer.Serialize(config.Validation, CampaignJson.Options);
        Assert.Equal("{\n  \"profile\": \"balanced\",\n  \"count\": 10,\n  \"seed\": 1\n}", json.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_VQA_split_is_scored_by_VQA_accuracy_and_its_failures_carry_text_only()
    {
        var split = ExternalSplit.Load("validation", new DataSplitConfig { File = Export(ShapesWorldFormat.VqaV2, "val2015"), Count = 30, Seed = 4 });
        Assert.Equal(30, split.Samples.Count);
        Assert.Equal("vqav2", split.Dataset.Format);
        Assert.True(File.Exists(split.ImagePath(split.Samples[0])));
        // Right answers for even questions, a wrong one for odd ones.
        var replies = split.Samples.Select((s, i) => new StudentReply(s.Id, i % 2 == 0 ? s.Answer.ToUpperInvariant() + "." : "zebra", 0.5, [], new Dictionary<string, double>())).ToList();
        var answers = split.Score(replies);
        Assert.All(answers, a => Assert.Equal("vqa-accuracy", a.Rule));
        Assert.Equal(15, answers.Count(a => a.Score == 1));
        var failures = split.Failures(answers, "scope");
        Assert.Equal(15, failures.Count);
        Assert.All(failures, f => { Assert.Null(f.Question.Program); Assert.Empty(f.Steps); Assert.Equal("zebra", f.Predicted); });
        var report = split.Report(answers, "m", "eval", 1.0);
        Assert.Equal(0.5, report.OverallAccuracy);
        Assert.Contains("vqa-accuracy", report.Data, StringComparison.Ordinal);
        Assert.Equal(30, report.PerFamily.Values.Sum(g => g.Count));
        Assert.Contains(report.Confusions, c => c.Predicted == "zebra");
    }

    [Fact]
    public void A_ScienceQA_split_asks_with_lettered_options_and_scores_the_letter_or_the_text()
    {
        var split = ExternalSplit.Load("test", new DataSplitConfig { File = Export(ShapesWorldFormat.ScienceQa, "test") });
        var s = split.Samples[0];
        string prompt = ExternalSplit.Prompt(s);
        Assert.StartsWith(s.Question + "\nA. " + s.Choices![0], prompt, StringComparison.Ordinal);
        var byLetter = split.Score([.. split.Samples.Select(x => new StudentReply(x.Id, x.Answer, 1, [], new Dictionary<string, double>()))]);
        var byText = split.Score([.. split.Samples.Select(x => new StudentReply(x.Id, ExternalSplit.Gold(x), 1, [], new Dictionary<string, double>()))]);
        Assert.All(byLetter.Concat(byText), a => { Assert.Equal("exact-choice", a.Rule); Assert.Equal(1, a.Score); });
        // Per skill by ScienceQA's skill field, which the export fills with the ShapesWorld skill key.
        Assert.All(split.Report(byLetter, "m", "eval", 0).PerSkill.Keys, k => Assert.True(SkillTaxonomy.Contains(k), k));
    }

    [Fact]
    public async Task A_free_text_answer_that_differs_from_the_reference_is_judged_by_the_teacher_and_marked()
    {
        // A FailureSynth folder has no scoring rule of its own: free text, normalised exact match, then the teacher.
        string dir = Path.Combine(_root, "free");
        ShapesWorldExporter.Export(new ShapesWorldExportRequest("balanced", 400, 3, dir));
        var split = ExternalSplit.Load("validation", new DataSplitConfig { File = dir });
        var grayIndex = split.Samples.Select((s, i) => (s, i)).First(x => x.s.Answer == "gray").i;
        string Reply(int i) => i == grayIndex ? "Grey." : i % 2 == 0 ? split.Samples[i].Answer : "zebra";
        var replies = split.Samples.Select((s, i) => new StudentReply(s.Id, Reply(i), 1, [], new Dictionary<string, double>())).ToList();
        var plain = split.Score(replies);
        Assert.Equal(0, plain[grayIndex].Score);
        var judged = await split.ScoreAsync(replies, new Loop.Teacher.EmbeddedTeacher(new EmbeddedTeacherOptions(PriorSamples: 1000)), default);
        Assert.Equal(1, judged[grayIndex].Score);
        Assert.Equal(ExternalSplit.TeacherJudged, judged[grayIndex].Rule);
        // Answers that matched are not sent to the teacher; those it finds different stay wrong, marked as judged.
        Assert.All(judged.Where((a, i) => i != grayIndex && i % 2 == 0), a => { Assert.Equal("exact-normalised", a.Rule); Assert.Equal(1, a.Score); });
        Assert.All(judged.Where((a, i) => i != grayIndex && i % 2 == 1), a => { Assert.Equal(ExternalSplit.TeacherJudged, a.Rule); Assert.Equal(0, a.Score); });
        Assert.Contains("teacher-judged", split.Report(judged, "m", "eval", 0).Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pool_file_is_indexed_once_and_answers_demands_with_its_own_pictures_never_twice()
    {
        string pool = Path.Combine(_root, "pool");
        ShapesWorldExporter.Export(new ShapesWorldExportRequest("balanced", 200, 9, pool));
        var config = new PoolConfig { File = pool, Count = 0 };
        string outDir = Path.Combine(_root, "out");
        string iter = Path.Combine(outDir, "iter-1");
        Directory.CreateDirectory(iter);
        string skills = Path.Combine(outDir, "pool-skills.json");
        var teacher = new EmbeddedTeacher(new EmbeddedTeacherOptions(PriorSamples: 1000));
        var filePool = await FilePool.BuildAsync(config, teacher, skills, null, default);
        Assert.Equal(200, filePool.Count);
        Assert.True(File.Exists(skills));
        var demand = new SkillDemand("What colour is the large circle?", "skill-01-colour", 6, ["fail-1"]);
        var first = filePool.Retrieve([demand], new HashSet<string>(), iter, outDir);
        Assert.Equal(6, first.Accepted.Count);
        Assert.All(first.Accepted, s =>
        {
            Assert.Equal("retrieved", s.Source);
            Assert.Equal("skill-01-colour", s.Proposal.SkillKey);
            Assert.Null(s.ImageModel);
            Assert.True(File.Exists(Path.Combine(outDir, s.GeneratedImage!)));
            Assert.Contains("colour", s.Proposal.Question, StringComparison.OrdinalIgnoreCase);
        });
        // A later iteration never takes them again.
        var second = filePool.Retrieve([demand], first.Accepted.Select(s => s.Proposal.Id).ToHashSet(), iter, outDir);
        Assert.Empty(second.Accepted.Select(s => s.Proposal.Id).Intersect(first.Accepted.Select(s => s.Proposal.Id)));
        // The index is rebuilt from pool-skills.json on resume: the same hits.
        var again = await FilePool.BuildAsync(config, teacher, skills, null, default);
        Assert.Equal(first.Accepted.Select(s => s.Proposal.Id), again.Retrieve([demand], new HashSet<string>(), iter, outDir).Accepted.Select(s => s.Proposal.Id));
    }

    [Fact]
    public void Retrieval_on_files_needs_a_pool_file_and_a_pool_file_needs_files()
    {
        string val = Export(ShapesWorldFormat.VqaV2, "val2015");
        string test = Export(ShapesWorldFormat.VqaV2, "test2015");
        Assert.Contains("needs pool.file", Assert.Throws<CampaignConfigException>(() => CampaignConfig.Parse(Served(val, test, "prescription: retrieve"), "bad.yaml")).Message);
        var ok = CampaignConfig.Parse(Served(val, test, $"prescription: retrieve\npool: {{ file: '{val}', count: 50 }}"), "ok.yaml");
        Assert.Equal(val, ok.Pool.File);
        Assert.Contains("pool.file, pool.format and pool.images go with external splits", Assert.Throws<CampaignConfigException>(() =>
            CampaignConfig.Parse($"pool: {{ file: '{val}' }}\n", "bad.yaml")).Message);
        Assert.Contains("pool.file 'missing.json' does not exist", Assert.Throws<CampaignConfigException>(() =>
            CampaignConfig.Parse(Served(val, test, "prescription: retrieve\npool: { file: missing.json }"), "bad.yaml")).Message.Replace(Directory.GetCurrentDirectory() + "/", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Free_text_skills_group_by_normalised_statement_and_keep_minimal_pairs_apart()
    {
        var groups = new SkillGroups();
        var f = new Failure("fail-1", "s1", new TeacherQuestion("Is the red circle above the square?", null, null), "yes", "no", [], []);
        string a = groups.Assign(1, f, new SkillDiagnosis("Judging whether an object is above another object. The student said no.", null));
        string b = groups.Assign(1, f, new SkillDiagnosis("judging whether the objects are ABOVE another object", null));
        string c = groups.Assign(2, f, new SkillDiagnosis("Judging whether an object is below another object.", null));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal("skill-01-judg-whether-object-above", a);
        // Keys are given in order of creation and never change: a later iteration finds the same key for the same skill.
        Assert.Equal(a, groups.Assign(3, f, new SkillDiagnosis("Judging whether an object is above another object.", null)));
        Assert.Equal(3, groups.Groups[0].Failures);
        Assert.Equal(2, groups.Groups[0].Statements.Count);
        // Every skill of ShapesWorld's taxonomy, stated in its own words, keeps a group of its own.
        var taxonomy = new SkillGroups();
        var keys = SkillTaxonomy.All.Select(skill => taxonomy.Assign(1, f, new SkillDiagnosis($"{skill.Key} {skill.Description} Details follow.", null))).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }
}
