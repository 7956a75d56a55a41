using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using FailureSynth.Loop.Filter;
using FailureSynth.TinyVlm.Evaluation;
using FailureSynth.World;
using FailureSynth.World.Rendering;

namespace FailureSynth.Loop.Campaigns;

/// <summary>Progress of one stage of a running campaign, as the live page shows it.</summary>
public sealed record PageStageProgress(int Iteration, string Stage, long Done, long Total, string? Note);

/// <summary>A download the page links to: its label and address (relative to report.html, or an API path when served live).</summary>
public sealed record PageLink(string Label, string Href);

/// <summary>
/// The campaign page: one self-contained HTML file (inline CSS, JS and SVG, images as PNG data URIs, nothing fetched)
/// built from a campaign folder as it stands. Finished campaigns write it as <c>report.html</c>; the Trainer serves it
/// live from the folder of a running campaign, so the sections fill in as stage files appear. Numbers are rendered
/// here, from the same records as <c>report.json</c>, and carry <c>data-check</c> attributes naming the report.json
/// value they show, so a browser test can compare the page with the file.
/// </summary>
public static class CampaignPage
{
    /// <summary>Failures shown per iteration in the failure browser, and accepted samples per iteration in the gallery.</summary>
    public const int FailuresShown = 60, SamplesShown = 48;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The downloads of a finished campaign folder, relative to report.html.</summary>
    public static IReadOnlyList<PageLink> FolderDownloads { get; } =
    [
        new("report.json", "report.json"), new("report.md", "report.md"), new("dataset manifest", "dataset/manifest.json"),
        new("LLaVA JSON", "dataset/llava.json"), new("provenance (JSONL)", "dataset/provenance.jsonl"),
        new("accuracy chart (SVG)", "charts/accuracy-per-skill.svg"), new("rejections chart (SVG)", "charts/rejections.svg"),
    ];

    /// <summary>Writes <c>report.html</c> into a campaign folder; returns its path.</summary>
    public static string Write(string folder)
    {
        string path = Path.Combine(folder, "report.html");
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, Build(folder, FolderDownloads, live: null));
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>
    /// The Content-Security-Policy a server sends the page with: nothing fetched from anywhere, the page's own script
    /// only (by its hash), its inline styles (the progress bars' widths and the chart's series colours are style
    /// attributes) and its data: images. The API's own policy (<c>default-src 'none'</c>) would block all three.
    /// </summary>
    public static readonly string ContentSecurityPolicy =
        $"default-src 'none'; script-src 'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Script)))}'; " +
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>The page of the campaign in <paramref name="folder"/>; <paramref name="live"/> is the progress of a running one.</summary>
    public static string Build(string folder, IReadOnlyList<PageLink> downloads, IReadOnlyList<PageStageProgress>? live, string? state = null)
    {
        var config = TryRead<CampaignConfig>(Path.Combine(folder, "config.json"));
        var report = TryRead<CampaignReport>(Path.Combine(folder, "report.json"));
        var baseEval = TryRead<EvaluationReport>(Path.Combine(folder, "base-eval.json"));
        int iterations = config?.Iterations ?? report?.Iterations.Count ?? 0;
        var html = new StringBuilder(1 << 20);
        string name = report?.Name ?? config?.Name ?? Path.GetFileName(folder);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.Append("<title>FailureSynth campaign ").Append(E(name)).Append("</title><style>").Append(Css).Append("</style></head><body>");
        html.Append("<header><h1>Campaign <code>").Append(E(name)).Append("</code></h1>");
        Summary(html, report, config, state ?? (report is null ? "running" : "completed"));
        html.Append("<nav>");
        foreach (var (id, label) in new[] { ("progress", "Progress"), ("accuracy", "Accuracy per skill"), ("flagged", "Flagged skills"), ("rejections", "Where proposals went"), ("failures", "Failures"), ("gallery", "Accepted samples"), ("downloads", "Downloads") })
            html.Append("<a href=\"#").Append(id).Append("\">").Append(label).Append("</a>");
        html.Append("</nav></header><main>");
        Progress(html, folder, iterations, live);
        Accuracy(html, report, baseEval);
        Flagged(html, report);
        Rejections(html, report, folder, iterations);
        Failures(html, folder, config, iterations);
        Gallery(html, folder, config, iterations);
        Downloads(html, downloads, report is not null);
        html.Append("</main><script>").Append(Script).Append("</script></body></html>");
        return html.ToString();
    }

    private static void Summary(StringBuilder h, CampaignReport? r, CampaignConfig? c, string state)
    {
        h.Append("<p class=\"summary\">State: <b data-state>").Append(E(state)).Append("</b>");
        if (c is not null) h.Append(" · seed ").Append(c.Seed).Append(" · ").Append(c.Iterations).Append(" iteration(s) · prescription <code>").Append(E(c.Prescription)).Append("</code> · locator <code>").Append(E(c.Locate.Method)).Append("</code>");
        h.Append("</p>");
        if (r is null) return;
        h.Append("<p class=\"headline\">Test accuracy <span data-check=\"base_test_accuracy\">").Append(Pct(r.BaseTestAccuracy)).Append("</span> → <span data-check=\"final_test_accuracy\">")
            .Append(Pct(r.FinalTestAccuracy)).Append("</span> (").Append(Signed(r.FinalTestAccuracy - r.BaseTestAccuracy)).Append(" points). Dataset: <span data-check=\"dataset_samples\">")
            .Append(r.DatasetSamples.ToString(Inv)).Append("</span> samples, manifest <code data-check=\"dataset_manifest_sha256\">").Append(E(r.DatasetManifestSha256)).Append("</code>.</p>");
    }

    private static void Progress(StringBuilder h, string folder, int iterations, IReadOnlyList<PageStageProgress>? live)
    {
        h.Append("<section id=\"progress\"><h2>Progress per stage</h2><table class=\"progress\"><thead><tr><th>iteration</th>");
        foreach (string stage in CampaignStages.All) h.Append("<th>").Append(stage).Append("</th>");
        h.Append("</tr></thead><tbody>");
        for (int k = 1; k <= iterations; k++)
        {
            h.Append("<tr><th>").Append(k).Append("</th>");
            foreach (string stage in CampaignStages.All)
            {
                bool done = File.Exists(Path.Combine(folder, $"iter-{k}", stage + ".json"));
                var now = live?.LastOrDefault(p => p.Iteration == k && p.Stage == stage);
                double fraction = done ? 1 : now is { Total: > 0 } ? Math.Clamp((double)now.Done / now.Total, 0, 1) : 0;
                string label = done ? "done" : now is null ? "waiting" : string.Create(Inv, $"{now.Done:N0} / {now.Total:N0}");
                h.Append("<td class=\"").Append(done ? "done" : now is null ? "waiting" : "running").Append("\"><div class=\"bar\"><div style=\"width:")
                    .Append((100 * fraction).ToString("0", Inv)).Append("%\"></div></div>").Append(label).Append("</td>");
            }
            h.Append("</tr>");
        }
        h.Append("</tbody></table></section>");
    }

    private static void Accuracy(StringBuilder h, CampaignReport? r, EvaluationReport? baseEval)
    {
        h.Append("<section id=\"accuracy\"><h2>Test accuracy per skill</h2>");
        IReadOnlyDictionary<string, double>? basePerSkill = r?.BasePerSkill ?? baseEval?.PerSkill.ToDictionary(kv => kv.Key, kv => kv.Value.Accuracy, StringComparer.Ordinal);
        if (basePerSkill is null) { h.Append("<p>Not measured yet.</p></section>"); return; }
        var iterations = r?.Iterations ?? [];
        var labels = new List<string> { "base" };
        labels.AddRange(iterations.Select(i => $"iter {i.Iteration}"));
        var skills = basePerSkill.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).ToList();
        var flagged = r?.FlaggedSkills.Select(f => f.Skill).ToHashSet(StringComparer.Ordinal) ?? [];
        h.Append("<p>Hover a line or a point for its skill and value; type to filter skills; click a skill in the table to highlight it. Dashed: flagged (got data, did not improve).</p>");
        h.Append("<input id=\"skill-filter\" type=\"search\" placeholder=\"filter skills, e.g. relate or color=cyan\" aria-label=\"filter skills\"> <span id=\"skill-count\"></span>");
        h.Append("<div class=\"chart\"><div id=\"tip\" role=\"status\"></div>");
        const int W = 760, H = 360, L = 48, R = 16, T = 12, B = 32;
        double X(int i) => labels.Count == 1 ? L + (W - L - R) / 2.0 : L + i * (W - L - R) / (double)(labels.Count - 1);
        double Y(double v) => T + (1 - v) * (H - T - B);
        h.Append(Inv, $"<svg id=\"acc-chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"test accuracy per skill per iteration\">");
        for (int g = 0; g <= 10; g += 2)
            h.Append(Inv, $"<line class=\"grid\" x1=\"{L}\" x2=\"{W - R}\" y1=\"{Y(g / 10.0):0.#}\" y2=\"{Y(g / 10.0):0.#}\"/><text class=\"axis\" x=\"{L - 6}\" y=\"{Y(g / 10.0) + 4:0.#}\" text-anchor=\"end\">{g * 10}%</text>");
        for (int i = 0; i < labels.Count; i++) h.Append(Inv, $"<text class=\"axis\" x=\"{X(i):0.#}\" y=\"{H - 10}\" text-anchor=\"middle\">{labels[i]}</text>");
        for (int s = 0; s < skills.Count; s++)
        {
            string skill = skills[s];
            var values = new List<double?> { basePerSkill[skill] };
            values.AddRange(iterations.Select(i => i.PerSkillAfter.TryGetValue(skill, out double a) ? a : (double?)null));
            string colour = $"hsl({s * 137 % 360},65%,42%)";
            string points = string.Join(' ', values.Select((v, i) => v is null ? null : string.Create(Inv, $"{X(i):0.#},{Y(v.Value):0.#}")).Where(p => p is not null));
            h.Append("<g class=\"series").Append(flagged.Contains(skill) ? " flagged" : "").Append("\" data-skill=\"").Append(E(skill)).Append("\" style=\"--c:").Append(colour).Append("\">");
            h.Append("<polyline points=\"").Append(points).Append("\"><title>").Append(E(skill)).Append("</title></polyline>");
            for (int i = 0; i < values.Count; i++)
                if (values[i] is { } v)
                    h.Append(Inv, $"<circle cx=\"{X(i):0.#}\" cy=\"{Y(v):0.#}\" r=\"3\" data-label=\"{E(skill)} · {labels[i]}: {Pct(v)}\"><title>{E(skill)} · {labels[i]}: {Pct(v)}</title></circle>");
            h.Append("</g>");
        }
        h.Append("</svg></div>");
        h.Append("<details><summary>Every skill: base and after each iteration (").Append(skills.Count).Append(", weakest first)</summary>");
        h.Append("<table class=\"skills\"><thead><tr><th>skill</th>");
        foreach (string label in labels) h.Append("<th>").Append(label).Append("</th>");
        h.Append("</tr></thead><tbody>");
        foreach (string skill in skills)
        {
            h.Append("<tr data-skill=\"").Append(E(skill)).Append("\"><td><code>").Append(E(skill)).Append("</code>").Append(flagged.Contains(skill) ? " <span class=\"flag\">flagged</span>" : "").Append("</td>");
            h.Append("<td data-check=\"base_per_skill.").Append(E(skill)).Append("\">").Append(Pct(basePerSkill[skill])).Append("</td>");
            for (int i = 0; i < iterations.Count; i++)
            {
                if (iterations[i].PerSkillAfter.TryGetValue(skill, out double a))
                    h.Append(Inv, $"<td data-check=\"iterations.{i}.per_skill_after.{E(skill)}\">{Pct(a)}</td>");
                else h.Append("<td>-</td>");
            }
            h.Append("</tr>");
        }
        h.Append("</tbody></table></details></section>");
    }

    private static void Flagged(StringBuilder h, CampaignReport? r)
    {
        h.Append("<section id=\"flagged\"><h2>Skills that did not improve after targeting</h2>");
        if (r is null) { h.Append("<p>Known when the campaign has finished.</p></section>"); return; }
        if (r.FlaggedSkills.Count == 0)
        {
            h.Append("<p>None: every skill that received at least ").Append(CampaignReport.FlagMinimumSamples).Append(" samples rose measurably.</p></section>");
            return;
        }
        h.Append("<p>These skills received prescribed data and did not rise by more than two standard errors of their test estimate (at least 1 point), base student to final student.</p>");
        h.Append("<table><thead><tr><th>skill</th><th>samples</th><th>base</th><th>final</th><th>change</th><th>test questions</th><th>why flagged</th></tr></thead><tbody>");
        for (int i = 0; i < r.FlaggedSkills.Count; i++)
        {
            var f = r.FlaggedSkills[i];
            h.Append(Inv, $"<tr><td><code data-check=\"flagged_skills.{i}.skill\">{E(f.Skill)}</code></td><td data-check=\"flagged_skills.{i}.samples\">{f.Samples}</td>");
            h.Append(Inv, $"<td data-check=\"flagged_skills.{i}.before\">{Pct(f.Before)}</td><td data-check=\"flagged_skills.{i}.after\">{Pct(f.After)}</td><td>{Signed(f.Gain)}</td>");
            h.Append(Inv, $"<td data-check=\"flagged_skills.{i}.test_questions\">{f.TestQuestions}</td><td class=\"why\">{E(f.Reason)}</td></tr>");
        }
        h.Append("</tbody></table></section>");
    }

    private static void Rejections(StringBuilder h, CampaignReport? r, string folder, int iterations)
    {
        h.Append("<section id=\"rejections\"><h2>Where the proposals went</h2><p>Every proposal is accounted for: proposed = accepted + each rejection reason + surplus (passed the filter, beyond the skill's share of the budget, left unused).</p>");
        if (r is null) { h.Append("<p>Known when the campaign has finished.</p></section>"); return; }
        h.Append("<table class=\"accounting\"><thead><tr><th>iteration</th><th>proposed</th><th>accepted</th><th>rejected, by reason</th><th>surplus</th><th>adds up</th></tr></thead><tbody>");
        for (int i = 0; i < r.Iterations.Count; i++)
        {
            var it = r.Iterations[i];
            h.Append(Inv, $"<tr><td>{it.Iteration}</td><td data-check=\"iterations.{i}.proposed\">{it.Proposed}</td><td data-check=\"iterations.{i}.accepted\">{it.Accepted}</td><td>");
            if (it.Rejections.Count == 0) h.Append("none");
            foreach (var (reason, n) in it.Rejections)
                h.Append(Inv, $"<div>{E(CampaignReportWriter.RejectionText(reason))}: <span data-check=\"iterations.{i}.rejections.{E(reason)}\">{n}</span></div>");
            h.Append(Inv, $"</td><td data-check=\"iterations.{i}.surplus\">{it.Surplus}</td><td>{(it.Unaccounted == 0 ? "yes" : $"no: {it.Unaccounted} unaccounted")}</td></tr>");
        }
        h.Append("</tbody></table></section>");
    }

    private static void Failures(StringBuilder h, string folder, CampaignConfig? config, int iterations)
    {
        h.Append("<section id=\"failures\"><h2>Failure browser</h2>");
        var cards = new StringBuilder();
        int shown = 0;
        Dictionary<string, WorldSample>? validation = null;
        for (int k = 1; k <= iterations; k++)
        {
            string dir = Path.Combine(folder, $"iter-{k}");
            var evaluated = TryRead<EvaluateOutput>(Path.Combine(dir, "evaluate.json"));
            if (evaluated is null) continue;
            var located = TryRead<LocateOutput>(Path.Combine(dir, "locate.json"))?.Located.ToDictionary(l => l.FailureId, l => l.Step, StringComparer.Ordinal);
            var diagnosed = TryRead<DiagnoseOutput>(Path.Combine(dir, "diagnose.json"))?.Diagnoses.ToDictionary(d => d.FailureId, d => d.Diagnosis, StringComparer.Ordinal);
            // The analysed failures first (they have a located step), in id order, as the loop took them.
            var failures = evaluated.Failures.OrderBy(f => located?.ContainsKey(f.Id) == true ? 0 : 1).ThenBy(f => f.Id, StringComparer.Ordinal).Take(FailuresShown).ToList();
            if (config is not null && validation is null)
            {
                var generator = new WorldGenerator(Profiles.Resolve(config.Validation.Profile));
                validation = Enumerable.Range(0, config.Validation.Count).Select(i => generator.Generate(config.Validation.Seed, i)).ToDictionary(s => s.Id, StringComparer.Ordinal);
            }
            foreach (var f in failures)
            {
                var step = located?.GetValueOrDefault(f.Id);
                var diagnosis = diagnosed?.GetValueOrDefault(f.Id);
                cards.Append("<article class=\"failure\" data-iteration=\"").Append(k).Append("\" data-skill=\"").Append(E(diagnosis?.SkillKey ?? "")).Append("\">");
                if (validation?.GetValueOrDefault(f.SampleId) is { } sample) cards.Append(Image(sample.Scene, $"validation image {f.SampleId}"));
                cards.Append("<div><p class=\"meta\">iteration ").Append(k).Append(" · ").Append(E(f.SampleId)).Append("</p><p class=\"q\">").Append(E(f.Question.Text)).Append("</p>");
                cards.Append("<p>gold <b>").Append(E(f.Gold)).Append("</b> · student <b class=\"wrong\">").Append(E(f.Predicted)).Append("</b></p><ol class=\"steps\">");
                foreach (var s in f.Steps)
                {
                    bool isLocated = step?.Index == s.Index;
                    cards.Append("<li").Append(isLocated ? " class=\"located\"" : "").Append('>').Append(E(s.Question)).Append(" → <b>").Append(E(s.Answer)).Append("</b> <span class=\"p\">p = ")
                        .Append(s.Probability.ToString("0.00", Inv)).Append("</span>").Append(isLocated ? " <span class=\"tag\">located</span>" : "").Append("</li>");
                }
                cards.Append("</ol>");
                if (step is not null) cards.Append("<p>Located: step ").Append(step.Index).Append(" by ").Append(E(step.Method)).Append(step.Fallback ? " (no clear switch: fallback)" : "").Append("</p>");
                if (diagnosis is not null)
                {
                    // The embedded teacher's text starts with the key; say it once.
                    string text = diagnosis.SkillKey is { } key && diagnosis.Text.StartsWith(key, StringComparison.Ordinal) ? diagnosis.Text[key.Length..].TrimStart() : diagnosis.Text;
                    cards.Append("<p>Diagnosis: <code>").Append(E(diagnosis.SkillKey ?? "(free text)")).Append("</code> ").Append(E(text)).Append("</p>");
                }
                cards.Append("</div></article>");
                shown++;
            }
        }
        if (shown == 0) { h.Append("<p>No failures collected yet.</p></section>"); return; }
        h.Append("<p>The first ").Append(FailuresShown).Append(" failures of each iteration (analysed ones first). </p><div class=\"browser\"><button type=\"button\" id=\"fail-prev\">← previous</button> <span id=\"fail-pos\"></span> <button type=\"button\" id=\"fail-next\">next →</button> <input id=\"fail-filter\" type=\"search\" placeholder=\"filter by diagnosed skill\" aria-label=\"filter failures by diagnosed skill\"></div>");
        h.Append("<div id=\"failure-cards\">").Append(cards).Append("</div></section>");
    }

    private static void Gallery(StringBuilder h, string folder, CampaignConfig? config, int iterations)
    {
        h.Append("<section id=\"gallery\"><h2>Accepted samples</h2>");
        int size = 64;
        var items = new StringBuilder();
        int shown = 0;
        for (int k = 1; k <= iterations; k++)
        {
            var prescribed = TryRead<PrescribeOutput>(Path.Combine(folder, $"iter-{k}", "prescribe.json"));
            if (prescribed is null) continue;
            // An even spread over the skills: the first samples of each demand in turn.
            var picked = prescribed.Accepted.GroupBy(s => s.DemandQuery, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                .SelectMany(g => g.Select((s, i) => (s, i))).OrderBy(x => x.i).ThenBy(x => x.s.Proposal.Id, StringComparer.Ordinal).Take(SamplesShown).Select(x => x.s);
            foreach (var s in picked)
            {
                var p = s.Proposal;
                items.Append("<figure class=\"sample\" data-iteration=\"").Append(k).Append("\">");
                if (p.Scene is not null) items.Append(Image(p.Scene, $"accepted sample {p.Id}", size));
                items.Append("<figcaption><p class=\"q\">").Append(E(p.Question)).Append("</p><p>answer <b>").Append(E(s.Verdict.VerifiedAnswer ?? p.Answer)).Append("</b></p>");
                items.Append("<p class=\"meta\">iteration ").Append(k).Append(" · ").Append(E(s.Source)).Append(" for <code>").Append(E(s.DemandSkill ?? p.SkillKey ?? "?")).Append("</code> · from ")
                    .Append(s.FailureIds.Count).Append(" failure(s)</p><p class=\"meta\">filter: ").Append(E(s.Verdict.Reason.ToString())).Append(s.Verdict.JudgeScore is { } j ? $", judge {j}/3" : "")
                    .Append(" — ").Append(E(s.Verdict.Detail)).Append("</p></figcaption></figure>");
                shown++;
            }
        }
        if (shown == 0) { h.Append("<p>No samples accepted yet.</p></section>"); return; }
        h.Append("<p>Up to ").Append(SamplesShown).Append(" accepted samples per iteration, spread over the prescribed skills, with their provenance and the filter's verdict.</p><div class=\"gallery\">").Append(items).Append("</div></section>");
    }

    private static void Downloads(StringBuilder h, IReadOnlyList<PageLink> downloads, bool finished)
    {
        h.Append("<section id=\"downloads\"><h2>Downloads</h2>");
        if (!finished) { h.Append("<p>Available when the campaign has finished.</p></section>"); return; }
        h.Append("<ul>");
        foreach (var d in downloads) h.Append("<li><a href=\"").Append(E(d.Href)).Append("\">").Append(E(d.Label)).Append("</a></li>");
        h.Append("</ul></section>");
    }

    private static string Image(World.Scenes.Scene scene, string alt, int size = 64) =>
        $"<img src=\"data:image/png;base64,{Convert.ToBase64String(SceneRasterizer.RenderPng(scene, size))}\" width=\"128\" height=\"128\" alt=\"{E(alt)}\">";

    private static T? TryRead<T>(string path) where T : class
    {
        if (!File.Exists(path)) return null;
        try { return CampaignJson.Read<T>(path); }
        catch (InvalidDataException) { return null; }
        catch (IOException) { return null; }
    }

    /// <summary>How the page writes an accuracy (a share in [0, 1]): one decimal, a percent sign.</summary>
    public static string Pct(double x) => (100 * x).ToString("0.0", Inv) + " %";

    private static string Signed(double x) => (100 * x).ToString("+0.0;-0.0;0.0", Inv);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Css = """
        body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
        header{background:#1d2330;color:#fff;padding:12px 24px}header h1{margin:0 0 4px;font-size:20px}header code{color:#ffd479}
        nav a{color:#9cc3ff;margin-right:14px;text-decoration:none}.headline{font-size:16px}
        main{padding:8px 24px 40px;max-width:1200px}section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px 16px 16px;margin:16px 0}
        h2{font-size:17px;margin:8px 0}table{border-collapse:collapse}th,td{border-bottom:1px solid #e5e8ee;padding:3px 8px;text-align:right;vertical-align:top;white-space:nowrap}td.why{white-space:normal;text-align:left}
        th:first-child,td:first-child{text-align:left}.progress td{min-width:90px;text-align:left}.bar{height:6px;background:#e5e8ee;border-radius:3px;margin-bottom:2px}
        .bar div{height:6px;background:#2f7be5;border-radius:3px}.done .bar div{background:#2e9d5b}.waiting{color:#8a93a3}
        .chart{position:relative}svg{width:100%;max-width:900px;height:auto}.grid{stroke:#e5e8ee}.axis{font-size:11px;fill:#5b6474}
        .series polyline{fill:none;stroke:var(--c);stroke-width:1.5;opacity:.55}.series circle{fill:var(--c);opacity:.7}
        .series.flagged polyline{stroke-dasharray:5 3}.series.hot polyline{stroke-width:4;opacity:1}.series.hot circle{r:5;opacity:1}
        .series.hidden{display:none}#tip{position:absolute;left:60px;top:4px;background:#1d2330;color:#fff;padding:2px 8px;border-radius:4px;font-size:12px;min-height:1em}
        #tip:empty{display:none}table.skills{margin-top:8px;font-size:12px}tr.hidden{display:none}tr.hot td{background:#fff6d6}
        .flag{background:#ffe1e1;color:#a31515;border-radius:3px;padding:0 4px;font-size:11px}
        .failure{display:flex;gap:16px;border-top:1px solid #e5e8ee;padding:8px 0}.failure.hidden{display:none}
        img{image-rendering:pixelated;border:1px solid #dde1e7;background:#000}.q{font-weight:600;margin:2px 0}.meta{color:#5b6474;font-size:12px;margin:2px 0}
        .steps li.located{background:#fff1c9}.tag{background:#e5a50a;color:#fff;border-radius:3px;padding:0 4px;font-size:11px}.p{color:#5b6474}.wrong{color:#b42318}
        .gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:12px}.sample{margin:0;border:1px solid #e5e8ee;border-radius:4px;padding:6px}
        .sample p{margin:2px 0}summary{cursor:pointer;margin-top:8px;color:#2f5fb3}input[type=search]{padding:4px 8px;min-width:280px}button{padding:3px 10px}
        """;

    private const string Script = """
        (function () {
          var tip = document.getElementById('tip');
          var series = Array.prototype.slice.call(document.querySelectorAll('#acc-chart .series'));
          var rows = Array.prototype.slice.call(document.querySelectorAll('table.skills tbody tr'));
          function hot(skill) {
            series.forEach(function (g) { g.classList.toggle('hot', g.getAttribute('data-skill') === skill); });
            rows.forEach(function (r) { r.classList.toggle('hot', r.getAttribute('data-skill') === skill); });
          }
          series.forEach(function (g) {
            g.addEventListener('mouseenter', function () { hot(g.getAttribute('data-skill')); tip.textContent = g.getAttribute('data-skill'); });
            g.addEventListener('mouseleave', function () { hot(null); tip.textContent = ''; });
            Array.prototype.forEach.call(g.querySelectorAll('circle'), function (c) {
              c.addEventListener('mouseenter', function () { tip.textContent = c.getAttribute('data-label'); });
            });
          });
          rows.forEach(function (r) { r.addEventListener('click', function () { hot(r.getAttribute('data-skill')); tip.textContent = r.getAttribute('data-skill'); }); });
          var filter = document.getElementById('skill-filter');
          var count = document.getElementById('skill-count');
          function applyFilter() {
            var text = filter ? filter.value.trim().toLowerCase() : '';
            var shown = 0;
            series.forEach(function (g) { var keep = g.getAttribute('data-skill').toLowerCase().indexOf(text) >= 0; g.classList.toggle('hidden', !keep); if (keep) shown++; });
            rows.forEach(function (r) { r.classList.toggle('hidden', r.getAttribute('data-skill').toLowerCase().indexOf(text) < 0); });
            if (count) count.textContent = shown + ' of ' + series.length + ' skills';
          }
          if (filter) { filter.addEventListener('input', applyFilter); applyFilter(); }
          var cards = Array.prototype.slice.call(document.querySelectorAll('#failure-cards .failure'));
          var visible = cards, at = 0;
          var pos = document.getElementById('fail-pos');
          function show() {
            cards.forEach(function (c) { c.classList.add('hidden'); });
            if (visible.length) visible[at].classList.remove('hidden');
            if (pos) pos.textContent = visible.length ? (at + 1) + ' of ' + visible.length : 'no failure matches';
          }
          function step(d) { if (!visible.length) return; at = (at + d + visible.length) % visible.length; show(); }
          var prev = document.getElementById('fail-prev'), next = document.getElementById('fail-next'), ff = document.getElementById('fail-filter');
          if (prev) prev.addEventListener('click', function () { step(-1); });
          if (next) next.addEventListener('click', function () { step(1); });
          if (ff) ff.addEventListener('input', function () {
            var text = ff.value.trim().toLowerCase();
            visible = cards.filter(function (c) { return c.getAttribute('data-skill').toLowerCase().indexOf(text) >= 0; });
            at = 0; show();
          });
          if (cards.length) show();
        })();
        """;
}
