using System.Collections.Frozen;
using System.Text;

namespace FailureSynth.Datasets;

/// <summary>How well one predicted answer matches a sample, and under which rule it was judged.</summary>
/// <param name="Score">0..1 (VQA accuracy may be fractional).</param>
/// <param name="Rule">"vqa-accuracy", "exact-choice" or "exact-normalised".</param>
public sealed record AnswerScore(double Score, string Rule);

/// <summary>
/// Scores a predicted answer by the matching rule of the sample's source format, for questions without an exact
/// executor: VQA v2's soft accuracy over the human answers, the correct option for multiple choice, and normalised
/// string equality for any other free-text answer. See docs/answer-scoring.md.
/// </summary>
public static class AnswerScoring
{
    public const string VqaAccuracyRule = "vqa-accuracy";
    public const string ExactChoiceRule = "exact-choice";
    public const string ExactNormalisedRule = "exact-normalised";

    /// <summary>Humans that must agree with an answer for full credit in VQA's accuracy.</summary>
    private const double AgreeingHumansForFullCredit = 3.0;

    /// <summary>Scores <paramref name="predicted"/> against <paramref name="sample"/>, choosing the rule from the sample's fields.</summary>
    /// <exception cref="ArgumentNullException">The sample or the prediction is null.</exception>
    /// <exception cref="ArgumentException">A choice sample whose answer names none of its choices.</exception>
    public static AnswerScore Score(VqaSample sample, string predicted)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(predicted);
        if (sample.AllAnswers is { Count: > 0 } humans)
            return new AnswerScore(VqaAccuracy(humans, predicted), VqaAccuracyRule);
        if (sample.Choices is { Count: > 0 } choices)
            return new AnswerScore(MatchesChoice(sample, choices, predicted) ? 1 : 0, ExactChoiceRule);
        bool same = string.Equals(NormaliseVqa(sample.Answer), NormaliseVqa(predicted), StringComparison.Ordinal);
        return new AnswerScore(same ? 1 : 0, ExactNormalisedRule);
    }

    /// <summary>
    /// VQA v2's accuracy: the mean, over every way of leaving one human answer out, of
    /// min(1, humans among the rest who gave the predicted answer / 3). Both sides are normalised first; the
    /// released annotations already are, so normalising them again changes nothing, while a user's own file may not be.
    /// </summary>
    private static double VqaAccuracy(IReadOnlyList<string> humans, string predicted)
    {
        string answer = NormaliseVqa(predicted);
        int agreeing = humans.Count(h => string.Equals(NormaliseVqa(h), answer, StringComparison.Ordinal));
        // Leaving one human out leaves nobody to agree with when there is only one; the lone answer then decides.
        if (humans.Count == 1) return agreeing;

        // Leaving out an agreeing human leaves agreeing - 1 matches (that happens `agreeing` times); leaving out
        // any other leaves all `agreeing` matches. The same sum as enumerating the subsets, without the loop.
        double sum = agreeing * Credit(agreeing - 1) + (humans.Count - agreeing) * Credit(agreeing);
        return sum / humans.Count;

        static double Credit(int matches) => Math.Min(1.0, matches / AgreeingHumansForFullCredit);
    }

    private static bool MatchesChoice(VqaSample sample, IReadOnlyList<string> choices, string predicted)
    {
        int correct = CorrectChoice(sample, choices);
        string given = ChoiceForm(predicted);
        // A bare letter within the options is read as a letter, even if some option's text is that letter too.
        if (LetterIndex(given, choices.Count) is int letter) return letter == correct;
        return string.Equals(given, ChoiceForm(choices[correct]), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The index of the correct option: the answer letter, else the option whose text the answer or answer text is.</summary>
    private static int CorrectChoice(VqaSample sample, IReadOnlyList<string> choices)
    {
        if (LetterIndex(ChoiceForm(sample.Answer), choices.Count) is int letter) return letter;
        foreach (string? text in new[] { sample.Answer, sample.AnswerText })
        {
            if (text is null) continue;
            for (int i = 0; i < choices.Count; i++)
            {
                if (string.Equals(ChoiceForm(choices[i]), ChoiceForm(text), StringComparison.OrdinalIgnoreCase)) return i;
            }
        }

        throw new ArgumentException(
            $"Sample \"{sample.Id}\": the answer \"{sample.Answer}\" is neither a choice letter (A-{(char)('A' + choices.Count - 1)}) nor the text of one of its {choices.Count} choices; fix the sample's answer.",
            nameof(sample));
    }

    /// <summary>A choice answer as compared: trimmed, one pair of enclosing brackets and a trailing period dropped ("(B)", "B." -> "B").</summary>
    private static string ChoiceForm(string answer)
    {
        string text = answer.Trim();
        if (text.EndsWith('.')) text = text[..^1].TrimEnd();
        if (text.Length >= 2 && text[0] == '(' && text[^1] == ')') text = text[1..^1].Trim();
        return text;
    }

    private static int? LetterIndex(string text, int choiceCount)
    {
        if (text.Length != 1 || !char.IsAsciiLetter(text[0])) return null;
        int index = char.ToUpperInvariant(text[0]) - 'A';
        return index < choiceCount ? index : null;
    }

    /// <summary>
    /// VQA's answer normalisation: lower case; punctuation other than apostrophes and colons becomes a space (a comma
    /// between digits just goes: "100,978" -> "100978"); periods go unless a digit follows ("2.5" stays); number words
    /// zero to ten (and "none") become digits; the articles a, an, the are dropped; contractions missing their
    /// apostrophe get it back ("dont" -> "don't"); words are joined by single spaces.
    /// </summary>
    public static string NormaliseVqa(string answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var text = new StringBuilder(answer.Length);
        for (int i = 0; i < answer.Length; i++)
        {
            char c = char.ToLowerInvariant(answer[i]);
            char previous = i > 0 ? answer[i - 1] : ' ';
            char next = i + 1 < answer.Length ? answer[i + 1] : ' ';
            if (c == '\u2019') c = '\''; // a typographic apostrophe is the same apostrophe
            if (c == ',' && char.IsAsciiDigit(previous) && char.IsAsciiDigit(next)) continue;
            if (c == '.')
            {
                if (char.IsAsciiDigit(next)) text.Append(c);
                continue;
            }

            text.Append(IsSpacedPunctuation(c) ? ' ' : c);
        }

        var words = new List<string>();
        foreach (string raw in text.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            string word = NumberWords.GetValueOrDefault(raw, raw);
            if (Articles.Contains(word)) continue;
            words.Add(MissingApostrophes.GetValueOrDefault(word, word));
        }

        return string.Join(' ', words);
    }

    /// <summary>Punctuation that VQA turns into a space; apostrophes (possessives) and colons (times such as 2:50) stay.</summary>
    private static bool IsSpacedPunctuation(char c) => c is ';' or '/' or '[' or ']' or '"' or '{' or '}' or '(' or ')'
        or '=' or '+' or '\\' or '_' or '-' or '>' or '<' or '@' or '`' or ',' or '?' or '!';

    private static readonly FrozenSet<string> Articles = FrozenSet.ToFrozenSet(["a", "an", "the"], StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, string> NumberWords = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["none"] = "0", ["zero"] = "0", ["one"] = "1", ["two"] = "2", ["three"] = "3", ["four"] = "4",
        ["five"] = "5", ["six"] = "6", ["seven"] = "7", ["eight"] = "8", ["nine"] = "9", ["ten"] = "10",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// Contractions written without their apostrophe. Our own list of the common ones; forms that are also real words
    /// without the apostrophe (its, ill, id, well, were, wed, shed, shell, hell, lets) are left alone on purpose.
    /// </summary>
    private static readonly FrozenDictionary<string, string> MissingApostrophes = BuildContractions();

    private static FrozenDictionary<string, string> BuildContractions()
    {
        string[] contracted =
        [
            "ain't", "aren't", "can't", "couldn't", "could've", "didn't", "doesn't", "don't", "hadn't", "hasn't",
            "haven't", "he'd", "he'll", "he's", "how'd", "how'll", "how's", "i'd've", "i'm", "i've", "isn't", "it'd",
            "it'll", "let's", "ma'am", "mightn't", "might've", "mustn't", "must've", "needn't", "o'clock", "shan't",
            "she'd", "she'll", "she's", "shouldn't", "should've", "that's", "there's", "there'd", "they'd", "they'll",
            "they're", "they've", "wasn't", "we'll", "we're", "we've", "weren't", "what's", "what're", "what'll",
            "where's", "where'd", "who's", "who'd", "who'll", "why's", "won't", "wouldn't", "would've", "y'all",
            "you'd", "you'll", "you're", "you've", "somebody's", "someone's", "something's", "nobody's",
        ];
        string[] realWords = ["its", "ill", "id", "well", "were", "wed", "shed", "shell", "hell", "lets"];
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string word in contracted)
        {
            string bare = word.Replace("'", "", StringComparison.Ordinal);
            if (!realWords.Contains(bare, StringComparer.Ordinal)) map[bare] = word;
        }

        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
