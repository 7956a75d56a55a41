using FailureSynth.World.Questions;

namespace FailureSynth.TinyVlm.Vocabulary;

/// <summary>
/// The answers a student can give, one class each: ShapesWorld's answer words (yes/no, 0..20, colours,
/// shapes, sizes) and the letters A-E of the multiple-choice form. The student returns a log-probability
/// for every one of them.
/// </summary>
public sealed class AnswerVocabulary
{
    private readonly Dictionary<string, int> idByAnswer;

    /// <summary>Creates the vocabulary from its ordered answers (index = class id).</summary>
    public AnswerVocabulary(IReadOnlyList<string> answers)
    {
        Answers = answers;
        idByAnswer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < answers.Count; i++)
        {
            if (!idByAnswer.TryAdd(answers[i], i))
                throw new ArgumentException($"Answer '{answers[i]}' appears twice in the answer vocabulary.", nameof(answers));
        }
    }

    /// <summary>The fixed ShapesWorld answer vocabulary.</summary>
    public static AnswerVocabulary ShapesWorld { get; } = new(
    [
        .. AnswerWords.ValuesOf(AnswerKind.YesNo),
        .. AnswerWords.ValuesOf(AnswerKind.Number),
        .. AnswerWords.ValuesOf(AnswerKind.Color),
        .. AnswerWords.ValuesOf(AnswerKind.Shape),
        .. AnswerWords.ValuesOf(AnswerKind.Size),
        "A", "B", "C", "D", "E",
    ]);

    /// <summary>Every answer, index = class id.</summary>
    public IReadOnlyList<string> Answers { get; }

    /// <summary>Number of classes.</summary>
    public int Count => Answers.Count;

    /// <summary>The class of <paramref name="answer"/> (trimmed; words lower-cased, choice letters upper-case), or -1 if it is not a known answer.</summary>
    public int IdOf(string answer)
    {
        var text = answer.Trim();
        if (idByAnswer.TryGetValue(text, out var id)) return id;
        return idByAnswer.TryGetValue(text.ToLowerInvariant(), out id) ? id : -1;
    }
}
