using System.Globalization;
using System.Text;
using FailureSynth.Reporting;

namespace FailureSynth.Loop.Campaigns;

/// <summary>Writes report.json, report.md, report.html (the campaign page) and the SVG charts of a campaign.</summary>
public static class CampaignReportWriter
{
    /// <summary>Skills coloured in the accuracy chart: the weakest at the start.</summary>
    public const int HighlightedSkills = 8;

    /// <summary>Writes the report files into <paramref name="directory"/>; returns the path of report.md.</summary>
    public static string Write(string directory, CampaignReport report)
    {
        CampaignJson.Write(Path.Combine(directory, "report.json"), report);
        string charts = Path.Combine(directory, "charts");
        Directory.CreateDirectory(charts);
        File.WriteAllText(Path.Combine(charts, "accuracy-per-skill.svg"), AccuracyChart(report));
        File.WriteAllText(Path.Combine(charts, "failures-per-skill.svg"), FailuresChart(report));
        File.WriteAllText(Path.Combine(charts, "rejections.svg"), RejectionsChart(report));
        string path = Path.Combine(directory, "report.md");
        File.WriteAllText(path, Markdown(report));
        CampaignPage.Write(directory);
        return path;
    }

    public static string AccuracyChart(CampaignReport report)
    {
        var skills = report.BasePerSkill.Keys.Order(StringComparer.Ordinal).ToList();
        var labels = new List<string> { "base" };
        labels.AddRange(report.Iterations.Select(i => $"iter {i.Iteration}"));
        var series = skills.Select(s => new LineSeries(s,
            [report.BasePerSkill[s], .. report.Iterations.Select(i => i.PerSkillAfter.TryGetValue(s, out var a) ? a : (double?)null)])).ToList();
        var weakest = report.BasePerSkill.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(HighlightedSkills).Select(kv => kv.Key).ToList();
        return SvgChart.Lines(new LineChart($"{report.Name}: test accuracy per skill (trained model of each iteration)", labels, series)
        {
            YAxisLabel = "accuracy",
            XAxisLabel = "iteration",
            Highlighted = weakest,
            YMin = 0,
            YMax = 1,
        });
    }

    public static string FailuresChart(CampaignReport report)
    {
        var skills = report.Iterations.SelectMany(i => i.FailuresPerSkill.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var rows = skills
            .Select(s => new BarRow(s, [.. report.Iterations.Select(i => (double)i.FailuresPerSkill.GetValueOrDefault(s))]))
            .OrderByDescending(r => r.Values.Sum()).ThenBy(r => r.Label, StringComparer.Ordinal).ToList();
        return SvgChart.Bars(new BarChart($"{report.Name}: validation failures per skill (most specific skill of the sample)", rows)
        {
            SeriesNames = [.. report.Iterations.Select(i => $"iter {i.Iteration}")],
            ValueAxisLabel = "failures",
            Decimals = 0,
        });
    }

    public static string RejectionsChart(CampaignReport report)
    {
        var reasons = report.Iterations.SelectMany(i => i.Rejections.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var rows = reasons.Select(r => new BarRow(r, [.. report.Iterations.Select(i => (double)i.Rejections.GetValueOrDefault(r))])).ToList();
        return SvgChart.Bars(new BarChart($"{report.Name}: proposals rejected by the quality filter, by reason", rows)
        {
            SeriesNames = [.. report.Iterations.Select(i => $"iter {i.Iteration}")],
            ValueAxisLabel = "proposals",
            Decimals = 0,
        });
    }

    public static string Markdown(CampaignReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(inv, $"# Campaign `{r.Name}` (seed {r.Seed})");
        md.AppendLine();
        md.AppendLine(inv, $"Base student: {r.Base.Source} ({r.Base.Path}{(r.Base.TrainSeconds > 0 ? string.Create(inv, $", trained in {r.Base.TrainSeconds:0.0} s") : "")}). ");
        md.AppendLine(inv, $"Test accuracy: **{Pct(r.BaseTestAccuracy)} -> {Pct(r.FinalTestAccuracy)}** ({Signed(r.FinalTestAccuracy - r.BaseTestAccuracy)} points) over {r.Iterations.Count} iteration(s), prescription `{r.Config.Prescription}`, locator `{r.Config.Locate.Method}`.");
        md.AppendLine();
        md.AppendLine(inv, $"Dataset: {r.DatasetSamples} samples in `dataset/` (manifest SHA-256 `{r.DatasetManifestSha256}`).");
        md.AppendLine();
        md.AppendLine("## Iterations");
        md.AppendLine();
        md.AppendLine(MarkdownTable.Render(
            ["iter", "val acc", "failures", "analysed", "proposed", "accepted", "rejected", "surplus", "train s", "test before", "test after", "promoted", "largest drop"],
            r.Iterations.Select(i => (IReadOnlyList<string>)[
                i.Iteration.ToString(inv), Pct(i.ValidationAccuracy), i.Failures.ToString(inv), i.FailuresAnalysed.ToString(inv),
                i.Proposed.ToString(inv), i.Accepted.ToString(inv), i.Rejections.Values.Sum().ToString(inv), i.Surplus.ToString(inv), i.TrainSeconds.ToString("0.0", inv), Pct(i.TestBefore), Pct(i.TestAfter),
                i.Promoted ? "yes" : "no", i.LargestDropSkill is null ? "none" : $"{i.LargestDropSkill} ({Signed(-i.LargestDrop)})"]),
            [ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric,
             ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Left, ColumnAlignment.Left]));
        md.AppendLine();
        md.AppendLine("Charts: `charts/accuracy-per-skill.svg`, `charts/failures-per-skill.svg`, `charts/rejections.svg`.");
        md.AppendLine();
        foreach (var i in r.Iterations)
        {
            md.AppendLine(inv, $"### Iteration {i.Iteration}");
            md.AppendLine();
            md.AppendLine(inv, $"Located steps: {string.Join(", ", i.LocatedSteps.Select(kv => $"step {kv.Key}: {kv.Value}"))} ({i.LocateFallbacks} without a clear switch). ");
            md.AppendLine(inv, $"Most diagnosed skills: {string.Join(", ", i.DiagnosedSkills.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(8).Select(kv => $"`{kv.Key}` {kv.Value}"))}. ");
            md.AppendLine(inv, $"Proposals: {Accounting(i)}.");
            md.AppendLine();
        }
        md.AppendLine("## Skills that did not improve after targeting");
        md.AppendLine();
        if (r.FlaggedSkills.Count == 0)
        {
            md.AppendLine(inv, $"None: every skill that received at least {CampaignReport.FlagMinimumSamples} samples rose measurably.");
        }
        else
        {
            md.AppendLine(inv, $"Skills that received at least {CampaignReport.FlagMinimumSamples} prescribed samples and did not rise by more than two standard errors of their test estimate (at least 1 point), from the base student to the final one:");
            md.AppendLine();
            md.AppendLine(MarkdownTable.Render(["skill", "samples", "base", "final", "change", "test questions", "needed"],
                r.FlaggedSkills.Select(f => (IReadOnlyList<string>)[$"`{f.Skill}`", f.Samples.ToString(inv), Pct(f.Before), Pct(f.After), Signed(f.Gain), f.TestQuestions.ToString(inv), "+" + (100 * f.NeededGain).ToString("0.0", inv)]),
                [ColumnAlignment.Left, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Numeric]));
        }
        md.AppendLine();
        BudgetAndGain(r, md);
        md.AppendLine("## Per-skill test accuracy");
        md.AppendLine();
        var headers = new List<string> { "skill", "base" };
        headers.AddRange(r.Iterations.Select(i => $"iter {i.Iteration}"));
        md.AppendLine(MarkdownTable.Render(headers,
            r.BasePerSkill.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (IReadOnlyList<string>)
                [kv.Key, Pct(kv.Value), .. r.Iterations.Select(i => i.PerSkillAfter.TryGetValue(kv.Key, out var a) ? Pct(a) : "-")]),
            [ColumnAlignment.Left, .. Enumerable.Repeat(ColumnAlignment.Numeric, headers.Count - 1)]));
        return md.ToString();
    }

    /// <summary>Where an iteration's proposals went, adding up: proposed = accepted + each rejection reason + surplus.</summary>
    public static string Accounting(IterationReport i)
    {
        var inv = CultureInfo.InvariantCulture;
        var parts = new List<string> { string.Create(inv, $"{i.Accepted:N0} accepted") };
        parts.AddRange(i.Rejections.Select(kv => string.Create(inv, $"{kv.Value:N0} rejected ({RejectionText(kv.Key)})")));
        parts.Add(string.Create(inv, $"{i.Surplus:N0} passed the filter but were left unused (beyond the skill's share of the budget)"));
        if (i.Unaccounted != 0) parts.Add(string.Create(inv, $"{i.Unaccounted:N0} unaccounted"));
        string generated = i.GeneratedImages is > 0 and int g
            ? string.Create(inv, $"; {g:N0} of the accepted were drawn by the image endpoint from a description (answer check and judge by the teacher, no scene re-execution)")
            : "";
        return string.Create(inv, $"{i.Proposed:N0} proposed = ") + string.Join(" + ", parts) + generated;
    }

    /// <summary>A filter reason as a reader says it.</summary>
    public static string RejectionText(string reason) => reason switch
    {
        "Schema" => "malformed proposal",
        "WrongAnswer" => "wrong answer: the program gives another on the scene",
        "Image" => "the image endpoint's picture was refused",
        "JudgeScore" => "judge score below the threshold",
        "Duplicate" => "duplicate of an earlier sample",
        "SkillCap" => "skill already at its cap",
        _ => reason,
    };

    /// <summary>
    /// Per skill that got data: samples and test gain (after minus before the iteration's fine-tune, in points) per iteration,
    /// and the course the gain ledger set for the next prescription, with its evidence.
    /// </summary>
    private static void BudgetAndGain(CampaignReport r, StringBuilder md)
    {
        var inv = CultureInfo.InvariantCulture;
        var skills = r.Iterations.SelectMany(i => i.AcceptedPerSkill.Keys).Distinct(StringComparer.Ordinal)
            .OrderByDescending(s => r.Iterations.Sum(i => i.AcceptedPerSkill.GetValueOrDefault(s))).ThenBy(s => s, StringComparer.Ordinal).ToList();
        if (skills.Count == 0) return;
        md.AppendLine("## Budget and gain per skill");
        md.AppendLine();
        md.AppendLine("Samples prescribed and the test gain of the iteration's fine-tune (points), per skill; the course is what the gain ledger decided after the last iteration " +
                      $"(a prescription must earn {Stages.GainLedger.MinGain * 100:0} points; below that a skill is escalated, then given up as flat and its budget moved).");
        md.AppendLine();
        var headers = new List<string> { "skill" };
        foreach (var i in r.Iterations) headers.AddRange([$"iter {i.Iteration} samples", $"iter {i.Iteration} gain"]);
        headers.Add("course");
        var last = r.Iterations[^1].Standings;
        md.AppendLine(MarkdownTable.Render(headers, skills.Select(s =>
        {
            var row = new List<string> { s };
            foreach (var i in r.Iterations)
            {
                row.Add(i.AcceptedPerSkill.GetValueOrDefault(s).ToString(inv));
                row.Add(i.PerSkillBefore is { } b && b.TryGetValue(s, out var before) && i.PerSkillAfter.TryGetValue(s, out var after) ? Signed(after - before) : "-");
            }
            row.Add(last is not null && last.TryGetValue(s, out var st) ? st.Course.ToString().ToLowerInvariant() : "-");
            return (IReadOnlyList<string>)row;
        }), [ColumnAlignment.Left, .. Enumerable.Repeat(ColumnAlignment.Numeric, headers.Count - 2), ColumnAlignment.Left]));
        md.AppendLine();
        if (last is not null)
        {
            foreach (var st in last.Values.Where(v => v.Course != Stages.SkillCourse.Standard))
                md.AppendLine(inv, $"- `{st.Skill}` ({st.Course.ToString().ToLowerInvariant()}): {st.Reason}.");
            md.AppendLine();
        }
    }

    private static string Pct(double x) => (100 * x).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    private static string Signed(double x) => (100 * x).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture);
}
