using System.Globalization;
using System.Text;
using FailureSynth.Loop.Contracts;

namespace FailureSynth.Loop.Stages;

/// <summary>One group of free-text skill diagnoses: a stable key, the statement that opened it, and what fell into it.</summary>
/// <param name="Key">"skill-NN-words": NN is the order of creation, so a key never changes once given.</param>
/// <param name="Label">The skill statement (first sentence) of the diagnosis that opened the group.</param>
/// <param name="Statements">Every distinct statement that joined, in order of arrival.</param>
/// <param name="Examples">Failures behind the group: iteration, failure id, question (the first <see cref="SkillGroups.ExamplesKept"/>).</param>
public sealed record SkillGroup(string Key, string Label, IReadOnlyList<string> Statements, int Failures, IReadOnlyList<SkillGroupExample> Examples);

/// <summary>A failure behind a skill group.</summary>
public sealed record SkillGroupExample(int Iteration, string FailureId, string Question, string Diagnosis);

/// <summary>
/// Groups the skills a teacher names in words (campaigns on external data, where there is no ShapesWorld taxonomy) into a
/// skill list that stays stable across iterations. Normalised text, deterministic and offline: a diagnosis's skill
/// statement (its first sentence) becomes a set of word stems (lower case, letters and digits only, stop words dropped,
/// plural and -ing/-ed endings trimmed), so word order, case, punctuation, articles and inflections do not split a group;
/// statements with the same set share a group. Groups are only ever added, so a key given in iteration 1 means the same
/// skill in iteration 3. Why not a looser lexical overlap (Jaccard): the skills the loop must keep apart are minimal pairs
/// ("above" / "below", "red" / "orange"), which overlap more than most paraphrases do, so no threshold merges paraphrases
/// without merging them. Embeddings would catch synonyms; they need a model at run time, and their distances change with it.
/// </summary>
public sealed class SkillGroups
{
    /// <summary>Examples kept per group in the report file.</summary>
    public const int ExamplesKept = 12;

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "of", "to", "in", "on", "and", "or", "for", "with", "is", "are", "be", "its", "it", "this", "that", "which",
        "student", "model", "skill", "ability", "can", "cannot", "need", "missing", "lack", "correctly", "how", "what",
    };

    private readonly List<(string Key, string Label, HashSet<string> Words, List<string> Statements, List<SkillGroupExample> Examples, int Count)> _groups = [];

    public IReadOnlyList<SkillGroup> Groups =>
        [.. _groups.Select(g => new SkillGroup(g.Key, g.Label, [.. g.Statements], g.Count, [.. g.Examples]))];

    /// <summary>The group key of a diagnosis, opening a group when none is close enough; the failure is recorded as an example.</summary>
    public string Assign(int iteration, Failure failure, SkillDiagnosis diagnosis)
    {
        ArgumentNullException.ThrowIfNull(failure);
        ArgumentNullException.ThrowIfNull(diagnosis);
        string statement = Statement(diagnosis.Text);
        var words = Words(statement);
        int best = _groups.FindIndex(g => g.Words.SetEquals(words));
        if (best < 0)
        {
            string slug = string.Join('-', OrderedWords(statement).Take(4));
            string key = string.Create(CultureInfo.InvariantCulture, $"skill-{_groups.Count + 1:D2}") + (slug.Length > 0 ? "-" + slug : "");
            _groups.Add((key, statement, words, [], [], 0));
            best = _groups.Count - 1;
        }
        var g = _groups[best];
        if (!g.Statements.Contains(statement, StringComparer.Ordinal)) g.Statements.Add(statement);
        if (g.Examples.Count < ExamplesKept) g.Examples.Add(new SkillGroupExample(iteration, failure.Id, failure.Question.Text, diagnosis.Text));
        _groups[best] = g with { Count = g.Count + 1 };
        return g.Key;
    }

    /// <summary>The text a group proposes data for: its opening statement.</summary>
    public string LabelOf(string key) => _groups.First(g => g.Key == key).Label;

    /// <summary>The first sentence of a diagnosis (teachers state the skill first and the failure's details after).</summary>
    public static string Statement(string text)
    {
        string t = (text ?? "").Trim();
        int end = t.IndexOf(". ", StringComparison.Ordinal);
        return (end > 0 ? t[..(end + 1)] : t).Trim();
    }

    /// <summary>The normalised word set of a statement.</summary>
    public static HashSet<string> Words(string statement) => new(OrderedWords(statement), StringComparer.Ordinal);

    // The normalised words in the statement's order, each once.
    private static List<string> OrderedWords(string statement)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        void Flush()
        {
            if (current.Length == 0) return;
            string w = current.ToString();
            current.Clear();
            w = Stem(w);
            if (!StopWords.Contains(w) && !words.Contains(w)) words.Add(w);
        }
        foreach (char c in statement.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c)) current.Append(c);
            else Flush();
        }
        Flush();
        return words;
    }

    // Light suffix trimming: enough for "objects"/"object", "counting"/"count", "colored"/"color"; not a full stemmer.
    private static string Stem(string w)
    {
        if (w.Length > 5 && w.EndsWith("ing", StringComparison.Ordinal)) return w[..^3];
        if (w.Length > 4 && w.EndsWith("ed", StringComparison.Ordinal)) return w[..^2];
        if (w.Length > 3 && w.EndsWith('s') && !w.EndsWith("ss", StringComparison.Ordinal)) return w[..^1];
        return w;
    }
}
