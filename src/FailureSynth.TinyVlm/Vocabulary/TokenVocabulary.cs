using FailureSynth.World.Questions;

namespace FailureSynth.TinyVlm.Vocabulary;

/// <summary>
/// The question token vocabulary: id 0 is padding, id 1 stands for unknown tokens, then the known tokens
/// in ordinal order. Built deterministically from training questions plus every answer word, so the
/// numbers a reasoning step may quote ("Is 17 greater than 3?") are always known.
/// </summary>
public sealed class TokenVocabulary
{
    /// <summary>Id of the padding token.</summary>
    public const int Padding = 0;

    /// <summary>Id standing for any token not in the vocabulary.</summary>
    public const int Unknown = 1;

    private readonly Dictionary<string, int> idByToken;

    /// <summary>Creates the vocabulary from its ordered token list (index = id, starting with the two reserved tokens).</summary>
    public TokenVocabulary(IReadOnlyList<string> tokens)
    {
        if (tokens.Count < 2 || tokens[0] != "<pad>" || tokens[1] != "<unk>")
            throw new ArgumentException("A token vocabulary starts with \"<pad>\" and \"<unk>\".", nameof(tokens));
        Tokens = tokens;
        idByToken = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (!idByToken.TryAdd(tokens[i], i))
                throw new ArgumentException($"Token '{tokens[i]}' appears twice in the vocabulary.", nameof(tokens));
        }
    }

    /// <summary>Every token, index = id.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Number of ids.</summary>
    public int Count => Tokens.Count;

    /// <summary>The vocabulary of <paramref name="questions"/> plus the answer words and choice letters, sorted ordinally.</summary>
    public static TokenVocabulary Build(IEnumerable<string> questions)
    {
        var known = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var question in questions)
        {
            known.UnionWith(QuestionTokenizer.Tokenize(question));
        }

        foreach (var word in AnswerVocabulary.ShapesWorld.Answers)
        {
            known.UnionWith(QuestionTokenizer.Tokenize(word));
        }

        known.Remove("<pad>");
        known.Remove("<unk>");
        return new TokenVocabulary(["<pad>", "<unk>", .. known]);
    }

    /// <summary>Token ids of <paramref name="question"/>, at most <paramref name="maxTokens"/> of them (the start is kept).</summary>
    public int[] Encode(string question, int maxTokens)
    {
        var tokens = QuestionTokenizer.Tokenize(question);
        var ids = new int[Math.Max(1, Math.Min(tokens.Count, maxTokens))];
        for (var i = 0; i < ids.Length && i < tokens.Count; i++)
        {
            ids[i] = idByToken.TryGetValue(tokens[i], out var id) ? id : Unknown;
        }

        // An empty question still needs one key to attend to.
        if (tokens.Count == 0) ids[0] = Unknown;
        return ids;
    }
}
