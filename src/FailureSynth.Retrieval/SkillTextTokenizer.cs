using System.Text;

namespace FailureSynth.Retrieval;

/// <summary>
/// Splits skill texts into index terms: lower-case runs of letters and digits, with the few
/// symbols of canonical skill keys ("=", ">=") kept inside a term so that <c>n>=5</c> stays one
/// term. Stop words carry no skill information and are dropped.
/// </summary>
public static class SkillTextTokenizer
{
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on", "or", "the", "to", "with",
    };

    public static IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var terms = new List<string>();
        var current = new StringBuilder();
        foreach (char c in text)
        {
            if (char.IsLetterOrDigit(c) || c is '=' or '>' or '<')
            {
                current.Append(char.ToLowerInvariant(c));
                continue;
            }
            Flush(current, terms);
        }
        Flush(current, terms);
        return terms;
    }

    private static void Flush(StringBuilder current, List<string> terms)
    {
        if (current.Length == 0) return;
        string term = current.ToString();
        current.Clear();
        if (!StopWords.Contains(term)) terms.Add(term);
    }
}
