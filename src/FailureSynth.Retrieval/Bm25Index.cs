namespace FailureSynth.Retrieval;

/// <summary>A retrieved document: its id, its position in the index and its BM25 score.</summary>
public sealed record Bm25Hit(string Id, int Document, double Score);

/// <summary>
/// Okapi BM25 over short documents (the support pool's precomputed skill texts, seed 002):
/// <c>score(D, Q) = Σ_t∈Q idf(t) · f(t,D)·(k1+1) / (f(t,D) + k1·(1 − b + b·|D|/avgdl))</c>, with
/// <c>idf(t) = ln(1 + (N − n(t) + 0.5) / (n(t) + 0.5))</c>, which stays positive for common terms.
/// A query term repeated counts once per occurrence. Ties are broken by document order, so
/// rankings are deterministic.
/// </summary>
public sealed class Bm25Index
{
    private readonly List<string> _ids = [];
    private readonly HashSet<string> _idSet = new(StringComparer.Ordinal);
    private readonly List<int> _lengths = [];
    // term -> postings (document, term frequency), documents ascending
    private readonly Dictionary<string, List<(int Document, int Frequency)>> _postings = new(StringComparer.Ordinal);
    private long _totalLength;

    public Bm25Index(double k1 = 1.2, double b = 0.75)
    {
        if (!(k1 >= 0) || double.IsInfinity(k1)) throw new ArgumentOutOfRangeException(nameof(k1), k1, "k1 must be a finite number >= 0 (typical: 1.2 to 2.0).");
        if (!(b is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(b), b, "b must be between 0 and 1 (typical: 0.75).");
        K1 = k1;
        B = b;
    }

    public double K1 { get; }
    public double B { get; }
    public int Count => _ids.Count;
    public double AverageLength => Count == 0 ? 0 : (double)_totalLength / Count;

    /// <summary>Adds a document; ids must be unique.</summary>
    public void Add(string id, string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(text);
        if (!_idSet.Add(id)) throw new ArgumentException($"document id \"{id}\" is already in the index; ids must be unique.", nameof(id));

        int document = _ids.Count;
        _ids.Add(id);
        IReadOnlyList<string> terms = SkillTextTokenizer.Tokenize(text);
        _lengths.Add(terms.Count);
        _totalLength += terms.Count;
        foreach (var group in terms.GroupBy(t => t, StringComparer.Ordinal))
        {
            if (!_postings.TryGetValue(group.Key, out var list))
                _postings[group.Key] = list = [];
            list.Add((document, group.Count()));
        }
    }

    /// <summary>Inverse document frequency of a term (0 documents → the largest idf).</summary>
    public double Idf(string term)
    {
        int n = _postings.TryGetValue(term, out var list) ? list.Count : 0;
        return Math.Log(1 + (Count - n + 0.5) / (n + 0.5));
    }

    /// <summary>BM25 score of one document for a query.</summary>
    public double Score(string query, int document)
    {
        if ((uint)document >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(document), document, $"the index holds {Count} documents.");
        double score = 0;
        foreach (string term in SkillTextTokenizer.Tokenize(query))
        {
            if (!_postings.TryGetValue(term, out var list)) continue;
            int index = list.BinarySearch((document, 0), PostingComparer.Instance);
            if (index >= 0) score += TermScore(term, list[index].Frequency, document);
        }
        return score;
    }

    /// <summary>The <paramref name="k"/> best documents for a query, best first; documents with score 0 are not returned.</summary>
    public IReadOnlyList<Bm25Hit> Search(string query, int k)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var scores = new Dictionary<int, double>();
        foreach (string term in SkillTextTokenizer.Tokenize(query))
        {
            if (!_postings.TryGetValue(term, out var list)) continue;
            foreach (var (document, frequency) in list)
                scores[document] = scores.GetValueOrDefault(document) + TermScore(term, frequency, document);
        }
        return scores
            .OrderByDescending(s => s.Value)
            .ThenBy(s => s.Key)
            .Take(k)
            .Select(s => new Bm25Hit(_ids[s.Key], s.Key, s.Value))
            .ToArray();
    }

    private double TermScore(string term, int frequency, int document)
    {
        double lengthNorm = 1 - B + B * _lengths[document] / AverageLength;
        return Idf(term) * frequency * (K1 + 1) / (frequency + K1 * lengthNorm);
    }

    private sealed class PostingComparer : IComparer<(int Document, int Frequency)>
    {
        public static readonly PostingComparer Instance = new();
        public int Compare((int Document, int Frequency) x, (int Document, int Frequency) y) => x.Document.CompareTo(y.Document);
    }
}
