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
    int Surplus,
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
    IReadOnlyDictionary<string, SkillStanding>? Standings = null,
    int? GeneratedImages = null)
{
    internal static IterationReport From(int k, EvaluateOutput evaluated, LocateOutput located, DiagnoseOutput diagnosed, PrescribeOutput prescribed,
        TrainOutput trained, MeasureOutput measured, IReadOnlyList<Contracts.Failure> analysed, IReadOnlyDictionary<string, SkillStanding>? standings = null)
    {
        var m = measured.Measurement;
        // Proposals that passed the filter beyond a skill's demand (the synthesiser asks for more than it needs, since
        // some are rejected) are surplus: left out of the dataset, but part of where the proposals went.
        int passed = prescribed.Verdicts.Count(v => v.Reason == FilterReason.Accepted);
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
            Math.Max(0, passed - prescribed.Accepted.Count),
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
            standings is null || standings.Count == 0 ? null : standings,
            // Samples drawn by the image endpoint (answer-checked and judged by the teacher); absent when none, as before.
            prescribed.Accepted.Count(s => s.GeneratedImage is not null && s.ImageModel is not null) is > 0 and int generated ? generated : null);
    }

    /// <summary>Proposals not explained by accepted + rejections + surplus; 0 unless a stage file is inconsistent.</summary>
    public int Unaccounted => Proposed - Accepted - Rejections.Values.Sum() - Surplus;

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
    int DatasetSamples,
    IReadOnlyList<FlaggedSkill> FlaggedSkills)
{
    /// <summary>Fewest prescribed samples for which a skill is expected to move (below it a flat skill is not flagged).</summary>
    public const int FlagMinimumSamples = 20;

    public static CampaignReport Build(CampaignConfig config, BaseInfo baseInfo, EvaluationReport baseReport, IReadOnlyList<IterationReport> iterations, DatasetManifest manifest)
    {
        double final = baseReport.OverallAccuracy;
        IReadOnlyDictionary<string, double> finalPerSkill = baseReport.PerSkill.ToDictionary(kv => kv.Key, kv => kv.Value.Accuracy, StringComparer.Ordinal);
        foreach (var it in iterations)
        {
            if (!it.Promoted) continue;
            final = it.TestAfter;
            finalPerSkill = it.PerSkillAfter;
        }
        return new CampaignReport(config.Name, config.Seed, config, baseInfo, baseReport.OverallAccuracy,
            baseReport.PerSkill.ToDictionary(kv => kv.Key, kv => kv.Value.Accuracy, StringComparer.Ordinal),
            iterations, final, manifest.DatasetSha256, manifest.SampleCount, Flag(baseReport, finalPerSkill, iterations));
    }

    /// <summary>
    /// Skills that received prescribed data (at least <see cref="FlagMinimumSamples"/> samples over the campaign) but whose
    /// test accuracy under the final student did not rise measurably: by less than two standard errors of the difference
    /// of two binomial estimates on the skill's test questions, and never by less than 1 point. Such a skill is a finding
    /// (the data did not teach it), not noise to hide.
    /// </summary>
    public static IReadOnlyList<FlaggedSkill> Flag(EvaluationReport baseReport, IReadOnlyDictionary<string, double> finalPerSkill, IReadOnlyList<IterationReport> iterations)
    {
        var samples = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var it in iterations)
            foreach (var (skill, n) in it.AcceptedPerSkill) samples[skill] = samples.GetValueOrDefault(skill) + n;
        var flagged = new List<FlaggedSkill>();
        foreach (var (skill, n) in samples)
        {
            if (n < FlagMinimumSamples || !baseReport.PerSkill.TryGetValue(skill, out var before) || !finalPerSkill.TryGetValue(skill, out double after)) continue;
            int questions = Math.Max(1, before.Count);
            double p0 = before.Accuracy;
            double standardError = Math.Sqrt((p0 * (1 - p0) + after * (1 - after)) / questions);
            double needed = Math.Max(0.01, 2 * standardError);
            double gain = after - p0;
            if (gain >= needed) continue;
            string reason = gain <= 0
                ? $"received {n} samples and fell or stayed flat ({Signed(gain)} points)"
                : $"received {n} samples and rose by {Signed(gain)} points, less than the {Points(needed)} points its {questions} test questions can tell from noise";
            flagged.Add(new FlaggedSkill(skill, n, p0, after, Math.Round(gain, 6), questions, Math.Round(needed, 6), reason));
        }
        return [.. flagged.OrderBy(f => f.Gain).ThenBy(f => f.Skill, StringComparer.Ordinal)];
    }

    private static string Signed(double x) => (100 * x).ToString("+0.0;-0.0;0.0", System.Globalization.CultureInfo.InvariantCulture);

    private static string Points(double x) => (100 * x).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A skill that got prescribed data and did not measurably improve (see <see cref="CampaignReport.Flag"/>).</summary>
public sealed record FlaggedSkill(string Skill, int Samples, double Before, double After, double Gain, int TestQuestions, double NeededGain, string Reason);
