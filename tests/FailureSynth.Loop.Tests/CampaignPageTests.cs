using System.Globalization;
using System.Text.Json.Nodes;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Stages;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.TinyVlm.Evaluation;
using FailureSynth.TinyVlm.Training;
using FailureSynth.TinyVlm.Vocabulary;
using FailureSynth.World;
using Microsoft.Playwright;

namespace FailureSynth.Loop.Tests;

/// <summary>One tiny finished campaign (2 iterations) whose folder the report and page tests read.</summary>
public sealed class FinishedCampaignFixture : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "fs-page-tests-" + Guid.NewGuid().ToString("N"));
    public string Output => Path.Combine(Root, "out");
    public CampaignResult Result { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        var samples = Enumerable.Range(0, 400).Select(i => new WorldGenerator(Profiles.BaseSkewed).Generate(1, i)).ToList();
        var examples = StudentTraining.Examples(samples);
        var student = TinyVlmStudent.Create(ComputeContext.Create(2, preferNativeBlas: false), TokenVocabulary.Build(examples.SelectMany(e => e.Steps.Select(s => s.Question).Prepend(e.Question))), 1);
        StudentTrainer.Train(student, examples, new TrainingOptions(40, 1));
        string checkpoint = Path.Combine(Root, "small.safetensors");
        student.Save(checkpoint);
        string yaml = $"""
            name: page
            seed: 5
            threads: 2
            iterations: 2
            student: {"{"} checkpoint: {checkpoint} {"}"}
            validation: {"{"} profile: balanced, count: 120, seed: 101 {"}"}
            test: {"{"} profile: balanced, count: 150, seed: 2 {"}"}
            budget: {"{"} failures: 40, samples: 60, train_steps: 6 {"}"}
            teacher: {"{"} prior_samples: 3000 {"}"}
            """;
        Result = await new CampaignRunner(CampaignConfig.Parse(yaml, "page.yaml"), Output).RunAsync(null, default);
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

/// <summary>The tests that read the one finished campaign share it (it takes a minute to run).</summary>
[CollectionDefinition(Name)]
public sealed class FinishedCampaignCollection : ICollectionFixture<FinishedCampaignFixture>
{
    public const string Name = "finished campaign";
}

/// <summary>The campaign's report files: rejections that add up, a checkpoint that exists, skills flagged.</summary>
[Collection(FinishedCampaignCollection.Name)]
public sealed class CampaignReportFileTests(FinishedCampaignFixture campaign)
{
    [Fact]
    public void Every_proposal_is_accepted_rejected_for_a_reason_or_stated_as_surplus()
    {
        foreach (var it in campaign.Result.Report.Iterations)
        {
            Assert.Equal(it.Proposed, it.Accepted + it.Rejections.Values.Sum() + it.Surplus);
            Assert.Equal(0, it.Unaccounted);
            // The synthesiser overshoots, so some proposals pass the filter and are not needed: they must be counted.
            var prescribed = CampaignJson.Read<PrescribeOutput>(Path.Combine(campaign.Output, $"iter-{it.Iteration}", "prescribe.json"));
            Assert.Equal(prescribed.Verdicts.Count, it.Proposed);
            Assert.True(it.Surplus > 0, $"iteration {it.Iteration}: no surplus although {it.Proposed} were proposed for {it.Accepted}");
        }
        string md = File.ReadAllText(Path.Combine(campaign.Output, "report.md"));
        var first = campaign.Result.Report.Iterations[0];
        Assert.Contains($"Proposals: {first.Proposed:N0} proposed = {first.Accepted:N0} accepted + ", md);
        Assert.Contains($"{first.Surplus:N0} passed the filter but were left unused", md);
    }

    [Fact]
    public void Train_json_names_a_checkpoint_inside_the_output_folder()
    {
        foreach (int k in new[] { 1, 2 })
        {
            var trained = CampaignJson.Read<TrainOutput>(Path.Combine(campaign.Output, $"iter-{k}", "train.json"));
            Assert.False(Path.IsPathRooted(trained.Checkpoint));
            Assert.True(File.Exists(Path.Combine(campaign.Output, trained.Checkpoint)), $"train.json of iteration {k} names {trained.Checkpoint}, which is not in {campaign.Output}");
            var measured = CampaignJson.Read<MeasureOutput>(Path.Combine(campaign.Output, $"iter-{k}", "measure.json"));
            Assert.True(File.Exists(Path.Combine(campaign.Output, measured.PromotedCheckpoint)));
        }
    }

    [Fact]
    public void A_skill_that_got_data_and_stayed_flat_is_flagged_and_one_that_rose_clearly_is_not()
    {
        var perSkill = new Dictionary<string, GroupAccuracy>(StringComparer.Ordinal)
        {
            ["relate/above"] = new(0.503, 600), ["relate/below"] = new(0.478, 600), ["query/color=cyan"] = new(0.60, 300), ["arith/diff"] = new(0.5, 600),
        };
        var baseReport = new EvaluationReport("m", "d", null, "reasoning", 2100, 0.5, null, perSkill, perSkill, [], 0, []);
        var accepted = new Dictionary<string, int>(StringComparer.Ordinal) { ["relate/above"] = 300, ["relate/below"] = 279, ["query/color=cyan"] = 120, ["arith/diff"] = 10 };
        var after = new Dictionary<string, double>(StringComparer.Ordinal) { ["relate/above"] = 0.493, ["relate/below"] = 0.503, ["query/color=cyan"] = 0.82, ["arith/diff"] = 0.4 };
        var counts = perSkill.ToDictionary(kv => kv.Key, _ => 1, StringComparer.Ordinal);
        var iteration = new IterationReport(1, "v", 100, 0.5, 10, 10, counts, counts, new Dictionary<int, int>(), 0,
            800, 709, new Dictionary<string, int>(), 91, accepted, 1, 0.5, 0.6, true, null, 0, after);
        var flagged = CampaignReport.Flag(baseReport, after, [iteration]);
        Assert.Equal(["relate/above", "relate/below"], flagged.Select(f => f.Skill));
        Assert.Contains("fell or stayed flat (-1.0 points)", flagged[0].Reason);
        Assert.Contains("rose by +2.5 points, less than the", flagged[1].Reason);
        // arith/diff fell, but 10 samples are too few to expect anything: not flagged.
    }

    [Fact]
    public void The_report_says_which_skills_did_not_improve()
    {
        var report = campaign.Result.Report;
        string md = File.ReadAllText(Path.Combine(campaign.Output, "report.md"));
        Assert.Contains("## Skills that did not improve after targeting", md);
        foreach (var f in report.FlaggedSkills) Assert.Contains($"`{f.Skill}`", md);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(campaign.Output, "report.json")))!;
        Assert.Equal(report.FlaggedSkills.Count, json["flagged_skills"]!.AsArray().Count);
    }
}

/// <summary>report.html in a real browser (the OS's Chromium through Playwright): it loads offline, renders, and shows report.json's numbers.</summary>
[Collection(FinishedCampaignCollection.Name)]
public sealed class CampaignPageBrowserTests(FinishedCampaignFixture campaign)
{
    private static readonly string[] ChromiumArgs = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    [Fact]
    public async Task The_page_loads_offline_with_no_console_errors_renders_its_images_and_shows_report_json_numbers()
    {
        string page = Path.Combine(campaign.Output, "report.html");
        Assert.True(File.Exists(page));
        await using var browser = await Browser.OpenAsync();
        var (tab, errors, requests) = await browser.LoadAsync(page);

        Assert.Empty(errors);
        Assert.All(requests, r => Assert.True(r.StartsWith("file:", StringComparison.Ordinal) || r.StartsWith("data:", StringComparison.Ordinal), $"the page fetched {r}"));
        var widths = await tab.EvaluateAsync<int[]>("() => Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)");
        Assert.True(widths.Length > 10, $"only {widths.Length} images");
        Assert.All(widths, w => Assert.True(w > 0, "an image did not render"));

        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(campaign.Output, "report.json")))!;
        var checks = await PageChecks(tab);
        Assert.Empty(Mismatches(checks, report));
        // Every number the page must show is there: the headline, each skill per iteration, each iteration's accounting.
        int skills = report["base_per_skill"]!.AsObject().Count;
        Assert.Equal(skills * 3, checks.Count(c => c.Path.StartsWith("base_per_skill.", StringComparison.Ordinal) || c.Path.Contains(".per_skill_after.", StringComparison.Ordinal)));
        foreach (string key in new[] { "base_test_accuracy", "final_test_accuracy", "dataset_samples", "dataset_manifest_sha256", "iterations.0.proposed", "iterations.1.surplus", "iterations.1.accepted" })
            Assert.Contains(checks, c => c.Path == key);

        // The chart filters and hovers.
        await tab.FillAsync("#skill-filter", "relate");
        int relate = report["base_per_skill"]!.AsObject().Count(kv => kv.Key.Contains("relate", StringComparison.Ordinal));
        Assert.Equal(relate, await tab.EvaluateAsync<int>("() => document.querySelectorAll('#acc-chart .series:not(.hidden)').length"));
        await tab.HoverAsync("#acc-chart .series:not(.hidden) circle");
        Assert.Contains("relate", await tab.TextContentAsync("#tip") ?? "");
        // The failure browser shows one failure at a time and steps through them.
        Assert.Equal(1, await tab.EvaluateAsync<int>("() => document.querySelectorAll('#failure-cards .failure:not(.hidden)').length"));
        string firstPosition = await tab.TextContentAsync("#fail-pos") ?? "";
        await tab.ClickAsync("#fail-next");
        Assert.NotEqual(firstPosition, await tab.TextContentAsync("#fail-pos"));
        Assert.True(await tab.EvaluateAsync<int>("() => document.querySelectorAll('#failure-cards .steps li.located').length") > 0, "no located step is marked");
    }

    [Fact]
    public async Task The_number_check_fails_when_report_json_or_the_page_differ()
    {
        string folder = Path.Combine(campaign.Root, "tampered-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(campaign.Output, "report.json")))!;
        string html = File.ReadAllText(Path.Combine(campaign.Output, "report.html"));
        await using var browser = await Browser.OpenAsync();

        // report.json says something else than the page.
        var changed = JsonNode.Parse(report.ToJsonString())!;
        changed["final_test_accuracy"] = report["final_test_accuracy"]!.GetValue<double>() + 0.01;
        var (tab, _, _) = await browser.LoadAsync(Write(folder, "page.html", html));
        Assert.Contains(Mismatches(await PageChecks(tab), changed), m => m.StartsWith("final_test_accuracy", StringComparison.Ordinal));

        // The page says something else than report.json.
        var it = report["iterations"]![0]!;
        int proposed = it["proposed"]!.GetValue<int>();
        string needle = $"data-check=\"iterations.0.proposed\">{proposed}<";
        Assert.Contains(needle, html);
        var (tampered, _, _) = await browser.LoadAsync(Write(folder, "tampered.html", html.Replace(needle, $"data-check=\"iterations.0.proposed\">{proposed + 1}<", StringComparison.Ordinal)));
        Assert.Contains(Mismatches(await PageChecks(tampered), report), m => m.StartsWith("iterations.0.proposed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_live_page_of_a_running_campaign_shows_finished_stages_current_progress_and_the_failures_so_far()
    {
        // The folder as the Trainer sees it while iteration 1 diagnoses: evaluate and locate are written, nothing after.
        string running = Path.Combine(campaign.Root, "running-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(running, "iter-1"));
        foreach (string file in new[] { "config.json", "iter-1/evaluate.json", "iter-1/locate.json" })
            File.Copy(Path.Combine(campaign.Output, file), Path.Combine(running, file));
        PageStageProgress[] progress = [new(1, "evaluate", 1, 1, "done"), new(1, "locate", 1, 1, "done"), new(1, "diagnose", 10, 40, null)];
        string html = CampaignPage.Build(running, [new("report.json", "/campaigns/x/report?format=json")], progress, "running");

        await using var browser = await Browser.OpenAsync();
        var (tab, errors, requests) = await browser.LoadAsync(Write(running, "page.html", html));
        Assert.Empty(errors);
        Assert.All(requests, r => Assert.True(r.StartsWith("file:", StringComparison.Ordinal) || r.StartsWith("data:", StringComparison.Ordinal), $"the page fetched {r}"));
        Assert.Equal("running", await tab.TextContentAsync("[data-state]"));
        var cells = await tab.EvaluateAsync<string[]>("() => Array.from(document.querySelectorAll('table.progress tbody tr:first-child td')).map(td => td.className + ':' + td.textContent.trim())");
        Assert.Equal(["done:done", "done:done", "running:10 / 40", "waiting:waiting", "waiting:waiting", "waiting:waiting"], cells);
        Assert.True(await tab.EvaluateAsync<int>("() => document.querySelectorAll('#failure-cards .steps li.located').length") > 0, "the located steps so far are not shown");
        Assert.Contains("Available when the campaign has finished.", await tab.TextContentAsync("#downloads") ?? "");
        Assert.Equal(0, await tab.EvaluateAsync<int>("() => document.querySelectorAll('[data-check]').length"));
    }

    [Fact]
    public async Task The_page_works_under_the_content_security_policy_a_server_sends_it_with()
    {
        string html = File.ReadAllText(Path.Combine(campaign.Output, "report.html"));
        await using var browser = await Browser.OpenAsync();

        // As the Trainer serves it: its script runs (the skill filter counts on load), its styles apply, its images render.
        var (tab, errors) = await browser.ServeAsync(html, CampaignPage.ContentSecurityPolicy);
        Assert.Empty(errors);
        Assert.Matches(@"^\d+ of \d+ skills$", await tab.TextContentAsync("#skill-count") ?? "");
        // The script hid all failures but one, and the stylesheet hides what is hidden.
        Assert.Equal("none", await tab.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('#failure-cards .failure.hidden')).display"));
        var widths = await tab.EvaluateAsync<int[]>("() => Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)");
        Assert.All(widths, w => Assert.True(w > 0, "an image did not render"));

        // The API's own policy would block all of it: the check above is what tells the two apart.
        var (_, blocked) = await browser.ServeAsync(html, "default-src 'none'; frame-ancestors 'none'");
        Assert.NotEmpty(blocked);
    }

    private static string Write(string folder, string name, string text)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    internal sealed record Check(string Path, string Text);

    private static async Task<List<Check>> PageChecks(IPage tab)
    {
        var pairs = await tab.EvaluateAsync<string[][]>("() => Array.from(document.querySelectorAll('[data-check]')).map(e => [e.getAttribute('data-check'), e.textContent.trim()])");
        return [.. pairs.Select(p => new Check(p[0], p[1]))];
    }

    /// <summary>Each checked element whose text is not report.json's value at its path, formatted as the page formats it.</summary>
    internal static List<string> Mismatches(IEnumerable<Check> checks, JsonNode report)
    {
        var problems = new List<string>();
        foreach (var check in checks)
        {
            JsonNode? node = report;
            foreach (string part in check.Path.Split('.'))
                node = node is JsonArray array && int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int index) ? (index < array.Count ? array[index] : null) : node?[part];
            if (node is null) { problems.Add($"{check.Path}: not in report.json"); continue; }
            string expected = node.GetValueKind() switch
            {
                System.Text.Json.JsonValueKind.String => node.GetValue<string>(),
                System.Text.Json.JsonValueKind.Number when IsAccuracy(check.Path) => (100 * node.GetValue<double>()).ToString("0.0", CultureInfo.InvariantCulture) + " %",
                System.Text.Json.JsonValueKind.Number => node.GetValue<double>().ToString(CultureInfo.InvariantCulture),
                _ => node.ToJsonString(),
            };
            if (expected != check.Text) problems.Add($"{check.Path}: page shows '{check.Text}', report.json has '{expected}'");
        }
        return problems;
    }

    private static bool IsAccuracy(string path) =>
        path.EndsWith("_accuracy", StringComparison.Ordinal) || path.StartsWith("base_per_skill.", StringComparison.Ordinal) || path.Contains(".per_skill_after.", StringComparison.Ordinal)
        || path.EndsWith(".before", StringComparison.Ordinal) || path.EndsWith(".after", StringComparison.Ordinal);

    /// <summary>Chromium with every network request recorded and every console error and page error collected.</summary>
    private sealed class Browser : IAsyncDisposable
    {
        private IPlaywright _playwright = null!;
        private IBrowser _browser = null!;

        public static async Task<Browser> OpenAsync()
        {
            Assert.True(File.Exists("/usr/bin/chromium"), "/usr/bin/chromium is missing: install the OS prerequisites with eng/install-prereqs.sh --with-browser (as root).");
            var b = new Browser { _playwright = await Playwright.CreateAsync() };
            b._browser = await b._playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ChromiumArgs });
            return b;
        }

        public async Task<(IPage Page, List<string> Errors, List<string> Requests)> LoadAsync(string file)
        {
            var (page, errors, requests) = await NewPageAsync();
            await page.GotoAsync(new Uri(file).AbsoluteUri, new() { WaitUntil = WaitUntilState.Load });
            return (page, errors, requests);
        }

        /// <summary>The page as a server sends it, with <paramref name="policy"/> as its Content-Security-Policy header.</summary>
        public async Task<(IPage Page, List<string> Errors)> ServeAsync(string html, string policy)
        {
            var (page, errors, _) = await NewPageAsync();
            const string address = "http://campaign.test/page";
            await page.RouteAsync(address, route => route.FulfillAsync(new()
            {
                Status = 200,
                ContentType = "text/html; charset=utf-8",
                Body = html,
                Headers = new Dictionary<string, string> { ["Content-Security-Policy"] = policy },
            }));
            await page.GotoAsync(address, new() { WaitUntil = WaitUntilState.Load });
            return (page, errors);
        }

        private async Task<(IPage Page, List<string> Errors, List<string> Requests)> NewPageAsync()
        {
            var page = await _browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
            var errors = new List<string>();
            var requests = new List<string>();
            page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
            page.PageError += (_, e) => errors.Add(e);
            page.Request += (_, r) => requests.Add(r.Url);
            return (page, errors, requests);
        }

        public async ValueTask DisposeAsync()
        {
            await _browser.CloseAsync();
            _playwright.Dispose();
        }
    }
}
