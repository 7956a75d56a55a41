using FailureSynth.Retrieval;

namespace FailureSynth.Retrieval.Tests;

public sealed class Bm25IndexTests
{
    // Three documents; lengths after tokenising: 3, 3, 4 terms (avgdl = 10/3).
    //   d0: count cyan objects          d1: count red objects          d2: cyan cyan above relation
    private static Bm25Index ThreeDocuments(double k1 = 1.2, double b = 0.75)
    {
        var index = new Bm25Index(k1, b);
        index.Add("d0", "Count the cyan objects");
        index.Add("d1", "count red objects");
        index.Add("d2", "cyan, cyan: above relation");
        return index;
    }

    [Fact]
    public void Idf_matches_the_hand_computed_value()
    {
        var index = ThreeDocuments();
        // "cyan" is in 2 of 3 documents: ln(1 + (3 - 2 + 0.5) / (2 + 0.5)) = ln(1.6)
        Assert.Equal(Math.Log(1.6), index.Idf("cyan"), 12);
        // "red" is in 1 of 3: ln(1 + 2.5/1.5) = ln(8/3)
        Assert.Equal(Math.Log(8.0 / 3.0), index.Idf("red"), 12);
        // an unseen term: ln(1 + 3.5/0.5) = ln(8)
        Assert.Equal(Math.Log(8), index.Idf("purple"), 12);
    }

    [Fact]
    public void Score_matches_the_hand_computed_bm25_value()
    {
        var index = ThreeDocuments();
        const double k1 = 1.2, b = 0.75, avgdl = 10.0 / 3.0;
        // Query "cyan above" against d2: f(cyan)=2, f(above)=1, |d2| = 4.
        double norm = 1 - b + b * 4 / avgdl;
        double cyan = Math.Log(1.6) * 2 * (k1 + 1) / (2 + k1 * norm);
        double above = Math.Log(1 + 2.5 / 1.5) * 1 * (k1 + 1) / (1 + k1 * norm);
        Assert.Equal(cyan + above, index.Score("cyan above", 2), 12);
        // Against d0: only cyan, f=1, |d0| = 3.
        double norm0 = 1 - b + b * 3 / avgdl;
        Assert.Equal(Math.Log(1.6) * (k1 + 1) / (1 + k1 * norm0), index.Score("cyan above", 0), 12);
        Assert.Equal(0, index.Score("cyan above", 1));
    }

    [Fact]
    public void With_b_zero_document_length_does_not_matter()
    {
        var index = new Bm25Index(k1: 1.5, b: 0);
        index.Add("short", "cyan");
        index.Add("long", "cyan circle square triangle diamond");
        Assert.Equal(index.Score("cyan", 0), index.Score("cyan", 1), 12);
    }

    [Fact]
    public void Search_ranks_best_first_and_breaks_ties_by_insertion_order()
    {
        var index = ThreeDocuments();
        IReadOnlyList<Bm25Hit> hits = index.Search("cyan above", 3);
        Assert.Equal(["d2", "d0"], hits.Select(h => h.Id));
        Assert.True(hits[0].Score > hits[1].Score);

        var ties = new Bm25Index();
        ties.Add("first", "count red");
        ties.Add("second", "count red");
        Assert.Equal(["first", "second"], ties.Search("red", 5).Select(h => h.Id));
        Assert.Single(ties.Search("red", 1));
    }

    [Fact]
    public void Search_scores_equal_the_score_of_each_document()
    {
        var index = ThreeDocuments();
        foreach (Bm25Hit hit in index.Search("count cyan objects", 3))
            Assert.Equal(index.Score("count cyan objects", hit.Document), hit.Score, 12);
    }

    [Fact]
    public void Skill_key_parts_keep_their_symbols()
    {
        Assert.Equal(["count", "color=cyan", "n>=5"], SkillTextTokenizer.Tokenize("count/color=cyan/n>=5"));
        Assert.Equal(["counting", "cyan", "objects"], SkillTextTokenizer.Tokenize("Counting the CYAN objects."));
    }

    [Fact]
    public void Bad_parameters_and_duplicate_ids_are_rejected_with_clear_messages()
    {
        Assert.Contains("k1", Assert.Throws<ArgumentOutOfRangeException>(() => new Bm25Index(k1: -1)).Message);
        Assert.Contains("b must be between 0 and 1", Assert.Throws<ArgumentOutOfRangeException>(() => new Bm25Index(b: 1.5)).Message);
        var index = ThreeDocuments();
        Assert.Contains("\"d1\" is already in the index", Assert.Throws<ArgumentException>(() => index.Add("d1", "x")).Message);
    }
}
