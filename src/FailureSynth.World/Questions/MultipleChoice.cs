using System.Text;
using System.Text.Json.Serialization;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Questions;

/// <summary>How a sample asks its question: a VQA-style short answer or a ScienceQA-style lettered choice.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<QuestionForm>))]
public enum QuestionForm { Open, Choice }

/// <summary>The options of a multiple-choice question and which of them is correct.</summary>
public sealed record ChoiceSet(IReadOnlyList<string> Options, int CorrectIndex)
{
    public string CorrectLetter => MultipleChoice.Letter(CorrectIndex);
}

/// <summary>
/// Builds multiple-choice forms: distractors come from the answer's own kind (numbers near the
/// answer, the near-pair colour first), options are shuffled by the caller's random stream,
/// and the answer becomes a letter.
/// </summary>
public static class MultipleChoice
{
    public const int MinOptions = 3;
    public const int MaxOptions = 5;
    private const int NumberSpread = 3;

    /// <summary>
    /// Options for <paramref name="answer"/>: 3..5 of them, or 2 for kinds that have only two
    /// values (yes/no, small/large) because a third option would have to be a value the world
    /// never produces.
    /// </summary>
    public static ChoiceSet Build(string answer, AnswerKind kind, DeterministicRandom rng)
    {
        ArgumentNullException.ThrowIfNull(answer);
        IReadOnlyList<string> values = AnswerWords.ValuesOf(kind);
        if (!values.Contains(answer))
            throw new ArgumentException($"'{answer}' is not a canonical {kind} answer; expected one of: {string.Join(", ", values.Take(8))}.", nameof(answer));

        int wanted = values.Count <= 2 ? values.Count : rng.NextInt(MinOptions, MaxOptions + 1);
        var options = new List<string> { answer };
        var pool = Candidates(answer, kind, values);
        // The near-pair colour is the most informative distractor: it is what a weak student picks.
        if (kind == AnswerKind.Color && ColorOf(answer) is { } color && AnswerWords.NearPartner(color) is { } partner)
        {
            options.Add(AnswerWords.Of(partner));
            pool.Remove(AnswerWords.Of(partner));
        }
        while (options.Count < wanted && pool.Count > 0)
        {
            int i = rng.NextInt(pool.Count);
            options.Add(pool[i]);
            pool.RemoveAt(i);
        }
        rng.Shuffle(options);
        return new ChoiceSet(options, options.IndexOf(answer));
    }

    public static string Letter(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxOptions);
        return ((char)('A' + index)).ToString();
    }

    /// <summary>The question followed by one "A. option" line per option.</summary>
    public static string Format(string question, IReadOnlyList<string> options)
    {
        var text = new StringBuilder(question);
        for (int i = 0; i < options.Count; i++)
            text.Append('\n').Append(Letter(i)).Append(". ").Append(options[i]);
        return text.ToString();
    }

    private static List<string> Candidates(string answer, AnswerKind kind, IReadOnlyList<string> values)
    {
        if (kind != AnswerKind.Number)
            return [.. values.Where(v => v != answer)];
        AnswerWords.TryParseNumber(answer, out int n);
        var near = new List<string>();
        for (int v = Math.Max(0, n - NumberSpread); v <= Math.Min(AnswerWords.MaxNumber, n + NumberSpread); v++)
            if (v != n) near.Add(AnswerWords.Number(v));
        return near;
    }

    private static ObjectColor? ColorOf(string word)
    {
        foreach (ObjectColor c in Enum.GetValues<ObjectColor>())
            if (AnswerWords.Of(c) == word) return c;
        return null;
    }
}
