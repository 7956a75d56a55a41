using System.Text;

namespace FailureSynth.TinyVlm.Vocabulary;

/// <summary>
/// Splits a question into tokens: lower-case letter runs, digit runs, and each punctuation mark on its
/// own ("Is 12 > 3?" gives is, 12, &gt;, 3, ?). Whitespace only separates.
/// </summary>
public static class QuestionTokenizer
{
    /// <summary>The tokens of <paramref name="text"/> in order.</summary>
    public static IReadOnlyList<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        var kind = 0; // 0: none, 1: letters, 2: digits
        void Flush()
        {
            if (current.Length > 0) tokens.Add(current.ToString());
            current.Clear();
            kind = 0;
        }

        foreach (var c in text)
        {
            if (char.IsLetter(c))
            {
                if (kind != 1) Flush();
                kind = 1;
                current.Append(char.ToLowerInvariant(c));
            }
            else if (char.IsAsciiDigit(c))
            {
                if (kind != 2) Flush();
                kind = 2;
                current.Append(c);
            }
            else
            {
                Flush();
                if (!char.IsWhiteSpace(c)) tokens.Add(c.ToString());
            }
        }

        Flush();
        return tokens;
    }
}
