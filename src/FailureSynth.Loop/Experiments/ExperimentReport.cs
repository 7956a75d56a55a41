using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Contracts;
using FailureSynth.Reporting;

namespace FailureSynth.Loop.Experiments;

/// <summary>One arm of an experiment: mean and sample standard deviation over seeds, and each seed's value.</summary>
public sealed record ArmRow(
    [property: JsonPropertyName("arm")] string Arm,
    [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("sd")] double Sd,
    [property: JsonPropertyName("seeds")] IReadOnlyList<double> Seeds)
{
    public static ArmRow Of(string arm, int n, IReadOnlyList<double> values)
    {
        var s = Stats.MeanAndSd(values);
        return new ArmRow(arm, n, Math.Round(s.Mean, 6), Math.Round(s.Sd, 6), [.. values.Select(v => Math.Round(v, 6))]);
    }
}

/// <summary>One step of a failure in locate-accuracy's located.jsonl: the student's answer, its probability and the exact answer.</summary>
public sealed record LocatedFailureStep(string Answer, double Probability, string? Exact);

/// <summary>One failure in locate-accuracy's located.jsonl: the oracle's first wrong step and the step each arm located.</summary>
public sealed record LocatedFailureLine(
    int Seed,
    string Id,
    string Family,
    string Question,
    string Gold,
    string Predicted,
    IReadOnlyList<LocatedFailureStep> Steps,
    int Oracle,
    SortedDictionary<string, LocatedStep> Located);

/// <summary>An experiment's result (report.json): rows, per-skill detail, findings, and how it was run.</summary>
public sealed record ExperimentReport(
    string Name,
    string Question,
    string Command,
    int Seeds,
    double BaseAccuracy,
    string BaseSource,
    IReadOnlyList<ArmRow> Rows,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> PerSkill,
    IReadOnlyList<string> Findings,
    IReadOnlyList<string> Notes,
    double Seconds,
    string? ExtraMarkdown = null);

/// <summary>Writes an experiment's report.json, report.md and its arm chart.</summary>
public static class ExperimentReportWriter
{
    public static string Write(string directory, ExperimentReport report, string metric = "test accuracy")
    {
        CampaignJson.Write(Path.Combine(directory, "report.json"), report);
        var rows = report.Rows.Select(r => new BarRow($"{r.Arm} (n={r.N})", [r.Mean], [r.Sd])).ToList();
        File.WriteAllText(Path.Combine(directory, "arms.svg"), SvgChart.Bars(new BarChart($"{report.Name}: {metric}, mean ± sd over {report.Seeds} seeds", rows)
        {
            ValueAxisLabel = metric,
            Decimals = 3,
            ValueMin = 0,
        }));
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(inv, $"# Experiment `{report.Name}`");
        md.AppendLine();
        md.AppendLine(report.Question);
        md.AppendLine();
        md.AppendLine(inv, $"Command: `{report.Command}` ({report.Seconds:0} s on this machine, {Environment.ProcessorCount} cores). Base student: {report.BaseSource}, test accuracy {100 * report.BaseAccuracy:0.0} %.");
        md.AppendLine();
        md.AppendLine(MarkdownTable.Render(["arm", "n", metric + " (mean ± sd)", "seeds"],
            report.Rows.Select(r => (IReadOnlyList<string>)[r.Arm, r.N.ToString(inv), Stats.Format(100 * r.Mean, 100 * r.Sd), string.Join(", ", r.Seeds.Select(v => (100 * v).ToString("0.0", inv)))]),
            [ColumnAlignment.Left, ColumnAlignment.Numeric, ColumnAlignment.Numeric, ColumnAlignment.Left]));
        md.AppendLine();
        if (report.Findings.Count > 0)
        {
            md.AppendLine("## Findings");
            md.AppendLine();
            foreach (var f in report.Findings) md.AppendLine("- " + f);
            md.AppendLine();
        }
        if (report.ExtraMarkdown is { } extra)
        {
            md.AppendLine(extra);
            md.AppendLine();
        }
        if (report.Notes.Count > 0)
        {
            md.AppendLine("## Notes");
            md.AppendLine();
            foreach (var n in report.Notes) md.AppendLine("- " + n);
            md.AppendLine();
        }
        if (report.PerSkill.Count > 0)
        {
            md.AppendLine("## Per-skill accuracy (mean over seeds)");
            md.AppendLine();
            var arms = report.PerSkill.Keys.ToList();
            var skills = report.PerSkill.Values.SelectMany(d => d.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
            md.AppendLine(MarkdownTable.Render(["skill", .. arms],
                skills.Select(s => (IReadOnlyList<string>)[s, .. arms.Select(a => report.PerSkill[a].TryGetValue(s, out var v) ? (100 * v).ToString("0.0", inv) : "-")]),
                [ColumnAlignment.Left, .. arms.Select(_ => ColumnAlignment.Numeric)]));
        }
        string path = Path.Combine(directory, "report.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }
}
