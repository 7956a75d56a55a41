using System.Globalization;

namespace FailureSynth.Loop.Stages;

/// <summary>What one iteration gave one skill: the samples it was prescribed and its test accuracy before and after.</summary>
public sealed record SkillOutcome(int Iteration, int Samples, double Before, double After)
{
    /// <summary>After minus before, in accuracy (0.05 = 5 points).</summary>
    public double Gain => Math.Round(After - Before, 6);
}

/// <summary>How the loop treats a skill's next prescription, after comparing what it spent on it with what it gained.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<SkillCourse>))]
public enum SkillCourse
{
    /// <summary>Its share follows its failures, as planned.</summary>
    Standard,

    /// <summary>It got data and did not improve: next time it gets <see cref="GainLedger.EscalatedWeight"/> times its share and the fine-tune runs longer.</summary>
    Escalated,

    /// <summary>It did not improve after escalation either: it gets no more data, and its share goes to the skills where data works.</summary>
    Flat,
}

/// <summary>A skill's standing in the ledger: its course and the outcomes it was decided on (the evidence the report shows).</summary>
public sealed record SkillStanding(string Skill, SkillCourse Course, IReadOnlyList<SkillOutcome> History, string Reason);

/// <summary>
/// Closes the loop on measured gain. After each iteration, every skill that was prescribed at least
/// <see cref="MinSamples"/> samples is checked: a gain of at least <see cref="MinGain"/> (or an accuracy already at
/// <see cref="Mastered"/>) keeps it on the standard course; no such gain escalates it (more data, a longer fine-tune);
/// no gain again while escalated marks it flat, and the planner gives its budget to the other skills. A flat skill that
/// later gains (through the other skills' data) goes back to standard. Pure: the result depends only on the arguments.
/// </summary>
public static class GainLedger
{
    /// <summary>Least gain, in accuracy, that counts as "the data worked" (5 points: above the test's noise for skills of ~250 questions).</summary>
    public const double MinGain = 0.05;

    /// <summary>Fewest samples of one iteration that make a flat result evidence rather than chance.</summary>
    public const int MinSamples = 20;

    /// <summary>An accuracy at which a skill has nothing left to gain.</summary>
    public const double Mastered = 0.95;

    /// <summary>Multiplier of an escalated skill's share of the budget.</summary>
    public const double EscalatedWeight = 2.0;

    /// <summary>Multiplier of the fine-tuning steps in an iteration that prescribes data for an escalated skill.</summary>
    public const double EscalatedSteps = 1.5;

    /// <summary>
    /// The standings after an iteration: <paramref name="previous"/> updated with the skills' outcomes in
    /// <paramref name="iteration"/> (samples prescribed per skill key; accuracy per skill before and after, on the split
    /// the loop measures with). Skills with no data keep their standing.
    /// </summary>
    public static IReadOnlyDictionary<string, SkillStanding> Update(IReadOnlyDictionary<string, SkillStanding> previous, int iteration,
        IReadOnlyDictionary<string, int> samplesPerSkill, IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after)
    {
        var result = new SortedDictionary<string, SkillStanding>(previous.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        var skills = samplesPerSkill.Keys.Concat(previous.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (string skill in skills)
        {
            if (!before.TryGetValue(skill, out double b) || !after.TryGetValue(skill, out double a)) continue;
            int n = samplesPerSkill.GetValueOrDefault(skill);
            var standing = previous.GetValueOrDefault(skill) ?? new SkillStanding(skill, SkillCourse.Standard, [], "");
            var outcome = new SkillOutcome(iteration, n, b, a);
            var history = standing.History.Append(outcome).ToList();
            bool worked = outcome.Gain >= MinGain || a >= Mastered;
            SkillCourse course;
            string reason;
            if (n < MinSamples)
            {
                // No evidence about data this time; a flat skill that rose anyway (from the other skills' data) is given data again.
                if (standing.Course == SkillCourse.Flat && outcome.Gain >= MinGain)
                    (course, reason) = (SkillCourse.Standard, F($"rose {Points(outcome.Gain)} without its own data in iteration {iteration}: given data again"));
                else if (!previous.ContainsKey(skill))
                    continue;
                else
                    (course, reason) = (standing.Course, standing.Reason);
            }
            else if (worked)
                (course, reason) = (SkillCourse.Standard, F($"{n} samples in iteration {iteration}: {Points(outcome.Gain)} ({Percent(b)} -> {Percent(a)})"));
            else if (standing.Course == SkillCourse.Standard)
                (course, reason) = (SkillCourse.Escalated, F($"{n} samples in iteration {iteration}: {Points(outcome.Gain)} ({Percent(b)} -> {Percent(a)}), below the {Points(MinGain)} a prescription must earn: {EscalatedWeight}x its share and a {EscalatedSteps}x longer fine-tune next"));
            else
                (course, reason) = (SkillCourse.Flat, F($"flat: {string.Join(", ", history.Where(h => h.Samples >= MinSamples).Select(h => $"{h.Samples} samples in iteration {h.Iteration} gave {Points(h.Gain)}"))} ({Percent(history[0].Before)} -> {Percent(a)}), the last one escalated; its budget goes to the skills where data works"));
            result[skill] = new SkillStanding(skill, course, history, reason);
        }
        return result;
    }

    /// <summary>The planner's weight of a skill's share: 1 standard, <see cref="EscalatedWeight"/> escalated, 0 flat.</summary>
    public static double Weight(IReadOnlyDictionary<string, SkillStanding> standings, string? skill) =>
        skill is not null && standings.TryGetValue(skill, out var s) ? s.Course switch
        {
            SkillCourse.Escalated => EscalatedWeight,
            SkillCourse.Flat => 0,
            _ => 1,
        } : 1;

    /// <summary>Fine-tuning steps for an iteration whose demands include an escalated skill: <see cref="EscalatedSteps"/> times as many.</summary>
    public static int Steps(int steps, IReadOnlyDictionary<string, SkillStanding> standings, IEnumerable<SkillDemand> demands) =>
        demands.Any(d => d.SkillKey is { } k && standings.TryGetValue(k, out var s) && s.Course == SkillCourse.Escalated)
            ? (int)Math.Round(steps * EscalatedSteps) : steps;

    private static string Points(double gain) => (100 * gain).ToString("+0.0;-0.0", CultureInfo.InvariantCulture) + " points";

    private static string Percent(double accuracy) => (100 * accuracy).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
