using FailureSynth.Datasets;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Stages;
using FailureSynth.TinyVlm.Evaluation;

namespace FailureSynth.Loop.Campaigns;

/// <summary>One iteration in the report.</summary>
public sealed record IterationReport(
    int Iteration,
    string StudentVersion,
    int ValidationSamples,
    double ValidationAccuracy,
    int Failures,
    int FailuresAnalysed,
    IReadOnlyDictionary<string, int> FailuresPerSkill,
    IReadOnlyDictionary<string, int> DiagnosedSkills,
    IReadOnlyDictionary<int, int> LocatedSteps,
    int LocateFallbacks,
    int Proposed,
    int Accepted,
    IReadOnlyDictionary<string, int> Rejections,
    IReadOnlyDictionary<string, int> AcceptedPerSkill,
    double TrainSeconds,
    double TestBefore,
    double TestAfter,
    bool Promoted,
    string? LargestDropSkill,
    double LargestDrop,
    IReadOnlyDictionary<string, double> PerSkillAfter,
    int TrainSteps = 0,
    IReadOnlyDictionary<string, double>? PerSkillBefore = null,
    IReadOnlyDictionary<string, SkillStanding>? Standings = null)
{
    internal static IterationReport From(int k, EvaluateOutput evaluated, LocateOutput located, DiagnoseOutput diagnosed, PrescribeOutput prescribed,
        TrainOutput trained, MeasureOutput measured, IReadOnlyList<Contracts.Failure> analysed, IReadOnlyDictionary<string, SkillStanding>? standings = null)
    {
        var m = measured.Measurement;
        return new IterationReport(
            k,
            evaluated.ModelVersion,
            evaluated.Samples,
            Math.Round((double)evaluated.Correct / Math.Max(1, evaluated.Samples), 6),
            evaluated.Failures.Count,
            analysed.Count,
            Count(evaluated.Failures.Select(f => f.Skills.Count > 0 ? f.Skills[^1] : "unknown")),
            Count(diagnosed.Diagnoses.Select(d => d.Diagnosis.SkillKey ?? "(free text)")),
            located.Located.GroupBy(l => l.Step.Index).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()),
            located.Located.Count(l => l.Step.Fallback),
            prescribed.Proposed,
            prescribed.Accepted.Count,
            Count(prescribed.Verdicts.Where(v => v.Reason != FilterReason.Accepted).Select(v => v.Reason.ToString())),
            Count(prescribed.Accepted.Select(s => s.Proposal.SkillKey ?? "unknown")),
            trained.Seconds,
            m.Before,
            m.After,
            m.Promoted,
            m.LargestDropSkill,
            m.LargestDrop,
            m.AfterPerSkill,
            trained.Steps,
            m.BeforePerSkill,
            standings is null || standings.Count == 0 ? null : standings);
    }

    private static SortedDictionary<string, int> Count(IEnumerable<string> keys)
    {
        var d = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var k in keys) d[k] = d.GetValueOrDefault(k) + 1;
        return d;
    }
}

/// <summary>The campaign's report (report.json): config, base student, per-iteration results and the dataset written.</summary>
public sealed record CampaignReport(
    string Name,
    long Seed,
    CampaignConfig Config,
    BaseInfo Base,
    double BaseTestAccuracy,
    IReadOnlyDictionary<string, double> BasePerSkill,
    IReadOnlyList<IterationReport> Iterations,
    double FinalTestAccuracy,
    string DatasetManifestSha256,
    int DatasetSamples)
{
    public static CampaignReport Build(CampaignConfig config, BaseInfo baseInfo, EvaluationReport baseReport, IReadOnlyList<IterationReport> iterations, DatasetManifest manifest)
    {
        double final = baseReport.OverallAccuracy;
        foreach (var it in iterations) if (it.Promoted) final = it.TestAfter;
        return new CampaignReport(config.Name, config.Seed, config, baseInfo, baseReport.OverallAccuracy,
            baseReport.PerSkill.ToDictionary(kv => kv.Key, kv => kv.Value.Accuracy, StringComparer.Ordinal),
            iterations, final, manifest.DatasetSha256, manifest.SampleCount);
    }
}
