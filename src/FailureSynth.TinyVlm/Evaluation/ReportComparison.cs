using System.Text.Json;
using System.Text.Json.Serialization;

namespace FailureSynth.TinyVlm.Evaluation;

/// <summary>What a comparison needs to know of one test question: its skills and the gold answer of each reasoning step.</summary>
public sealed record ComparedQuestion(string Id, IReadOnlyList<string> Skills, IReadOnlyList<string> StepAnswers);

/// <summary>An answer given by the student after the change, with how many lost questions it was.</summary>
public sealed record AnswerCount(
    [property: JsonPropertyName("answer")] string Answer,
    [property: JsonPropertyName("count")] int Count);

/// <summary>
/// How one skill changed between two evaluations of the same questions: accuracy before and after, the questions
/// that went from right to wrong (lost) and from wrong to right (gained), and, for the lost ones, the first
/// reasoning step the new student got wrong and the answers it gave instead.
/// </summary>
/// <param name="LostAtStep">
/// Lost questions by the first step (1-based, as text) whose answer no longer matches the gold step answer;
/// "final" when every step was right but the composed answer was not, "no steps" in direct mode.
/// </param>
/// <param name="LostIds">The first lost question ids (at most <see cref="ReportComparison.IdsKept"/>), to look at.</param>
public sealed record SkillChange(
    [property: JsonPropertyName("skill")] string Skill,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("before")] double Before,
    [property: JsonPropertyName("after")] double After,
    [property: JsonPropertyName("change_points")] double ChangePoints,
    [property: JsonPropertyName("lost")] int Lost,
    [property: JsonPropertyName("gained")] int Gained,
    [property: JsonPropertyName("lost_at_step")] IReadOnlyDictionary<string, int> LostAtStep,
    [property: JsonPropertyName("lost_answers")] IReadOnlyList<AnswerCount> LostAnswers,
    [property: JsonPropertyName("lost_ids")] IReadOnlyList<string> LostIds);

/// <summary>
/// Question-by-question comparison of two evaluation reports on the same test data (for example the student before
/// and after a fine-tuning iteration): it tells a skill that fell because many of its questions churned from one
/// that fell because a few answers moved one way, and where in the reasoning the lost answers now go wrong.
/// Written as JSON by <c>failuresynth student compare</c>.
/// </summary>
public sealed record ReportComparison(
    [property: JsonPropertyName("before_model")] string BeforeModel,
    [property: JsonPropertyName("after_model")] string AfterModel,
    [property: JsonPropertyName("questions")] int Questions,
    [property: JsonPropertyName("before")] double Before,
    [property: JsonPropertyName("after")] double After,
    [property: JsonPropertyName("lost")] int Lost,
    [property: JsonPropertyName("gained")] int Gained,
    [property: JsonPropertyName("skills")] IReadOnlyList<SkillChange> Skills)
{
    /// <summary>Lost question ids kept per skill.</summary>
    public const int IdsKept = 5;

    /// <summary>Commonest wrong answers kept per skill.</summary>
    public const int AnswersKept = 3;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The comparison as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Indented);

    /// <summary>
    /// Compares <paramref name="before"/> with <paramref name="after"/>, both evaluations of exactly the questions in
    /// <paramref name="questions"/>, in the same mode. Skills are ordered from the largest fall to the largest rise.
    /// </summary>
    /// <exception cref="ArgumentException">The reports do not answer the same questions, or not those given, or differ in mode or gold answers.</exception>
    public static ReportComparison Compare(EvaluationReport before, EvaluationReport after, IReadOnlyList<ComparedQuestion> questions)
    {
        if (before.Mode != after.Mode)
            throw new ArgumentException($"The reports were made in different modes ({before.Mode} before, {after.Mode} after); evaluate both the same way.");
        var facts = new Dictionary<string, ComparedQuestion>(StringComparer.Ordinal);
        foreach (var q in questions)
        {
            if (!facts.TryAdd(q.Id, q)) throw new ArgumentException($"The test data has question id '{q.Id}' twice.");
        }

        var b = Index(before, "before", facts);
        var a = Index(after, "after", facts);
        foreach (var (id, answer) in b)
        {
            if (a[id].Expected != answer.Expected)
                throw new ArgumentException($"Question '{id}' has gold answer '{answer.Expected}' in the before report but '{a[id].Expected}' in the after report; they are not evaluations of the same data.");
        }

        var perSkill = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var q in questions)
        {
            foreach (var skill in q.Skills.Distinct(StringComparer.Ordinal))
            {
                if (!perSkill.TryGetValue(skill, out var ids)) perSkill[skill] = ids = [];
                ids.Add(q.Id);
            }
        }

        var skills = new List<SkillChange>(perSkill.Count);
        foreach (var (skill, ids) in perSkill)
        {
            int rightBefore = 0, rightAfter = 0, gained = 0;
            var lost = new List<string>();
            var atStep = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var wrongAnswers = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var id in ids)
            {
                var was = b[id];
                var now = a[id];
                if (was.Correct) rightBefore++;
                if (now.Correct) rightAfter++;
                if (was.Correct && !now.Correct)
                {
                    lost.Add(id);
                    var step = FirstWrongStep(facts[id].StepAnswers, now.StepAnswers);
                    atStep[step] = atStep.GetValueOrDefault(step) + 1;
                    wrongAnswers[now.Predicted] = wrongAnswers.GetValueOrDefault(now.Predicted) + 1;
                }
                else if (!was.Correct && now.Correct)
                {
                    gained++;
                }
            }

            double accuracyBefore = Math.Round((double)rightBefore / ids.Count, 6), accuracyAfter = Math.Round((double)rightAfter / ids.Count, 6);
            skills.Add(new SkillChange(
                skill,
                ids.Count,
                accuracyBefore,
                accuracyAfter,
                Math.Round(100.0 * (rightAfter - rightBefore) / ids.Count, 2),
                lost.Count,
                gained,
                atStep,
                [.. wrongAnswers.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(AnswersKept).Select(kv => new AnswerCount(kv.Key, kv.Value))],
                [.. lost.Take(IdsKept)]));
        }

        int total = questions.Count;
        return new ReportComparison(
            before.Model,
            after.Model,
            total,
            Math.Round((double)b.Values.Count(x => x.Correct) / total, 6),
            Math.Round((double)a.Values.Count(x => x.Correct) / total, 6),
            questions.Count(q => b[q.Id].Correct && !a[q.Id].Correct),
            questions.Count(q => !b[q.Id].Correct && a[q.Id].Correct),
            [.. skills.OrderBy(s => s.ChangePoints).ThenBy(s => s.Skill, StringComparer.Ordinal)]);
    }

    /// <summary>The first step whose given answer differs from the gold one ("1", "2", ...), "final" if none does, "no steps" without steps.</summary>
    private static string FirstWrongStep(IReadOnlyList<string> gold, IReadOnlyList<string>? given)
    {
        if (given is null || given.Count == 0 || gold.Count == 0) return "no steps";
        for (var s = 0; s < gold.Count; s++)
        {
            if (s >= given.Count || !string.Equals(gold[s].Trim(), given[s].Trim(), StringComparison.OrdinalIgnoreCase))
                return (s + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return "final";
    }

    private static Dictionary<string, EvaluatedAnswer> Index(EvaluationReport report, string which, Dictionary<string, ComparedQuestion> facts)
    {
        if (report.Answers is null || report.Answers.Count == 0)
            throw new ArgumentException($"The {which} report ({report.Model}) has no per-question answers; write it with `failuresynth student eval`, which keeps them.");
        var byId = new Dictionary<string, EvaluatedAnswer>(StringComparer.Ordinal);
        foreach (var answer in report.Answers)
        {
            if (!byId.TryAdd(answer.Id, answer)) throw new ArgumentException($"The {which} report answers question '{answer.Id}' twice.");
            if (!facts.ContainsKey(answer.Id))
                throw new ArgumentException($"The {which} report answers question '{answer.Id}', which is not in the test data; compare reports of the data they were evaluated on.");
        }

        var missing = facts.Keys.Where(id => !byId.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"The {which} report does not answer {missing.Count} question(s) of the test data (first: '{missing[0]}'); compare reports of the whole data they were evaluated on.");
        return byId;
    }
}

/// <summary>Reads an evaluation report written by <c>failuresynth student eval</c>, naming the file and what is wrong on bad input.</summary>
public static class EvaluationReportFile
{
    /// <summary>The report at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">It is not a report: bad JSON, or a field missing or of the wrong type.</exception>
    public static EvaluationReport Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Evaluation report '{path}' does not exist; write one with `failuresynth student eval --out {path}`.", path);
        EvaluationReport? report;
        try
        {
            report = JsonSerializer.Deserialize<EvaluationReport>(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Evaluation report '{path}' is not valid: {e.Message}", e);
        }

        if (report is null) throw new InvalidDataException($"Evaluation report '{path}' is empty (null).");
        if (string.IsNullOrEmpty(report.Mode)) throw new InvalidDataException($"Evaluation report '{path}' has no 'mode'.");
        if (report.Answers is null) throw new InvalidDataException($"Evaluation report '{path}' has no 'answers' list.");
        for (var i = 0; i < report.Answers.Count; i++)
        {
            var answer = report.Answers[i];
            if (answer is null || string.IsNullOrEmpty(answer.Id) || answer.Expected is null || answer.Predicted is null)
                throw new InvalidDataException($"Evaluation report '{path}': answers[{i}] needs 'id', 'expected' and 'predicted'.");
        }

        return report;
    }
}
