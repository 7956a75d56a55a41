using FailureSynth.TinyVlm.Vocabulary;

namespace FailureSynth.TinyVlm.Tests;

/// <summary>Tokenisation and the two vocabularies.</summary>
public class VocabularyTests
{
    [Fact]
    public void Tokenizer_splits_words_numbers_and_punctuation()
    {
        Assert.Equal(["is", "12", "greater", "than", "3", "?"], QuestionTokenizer.Tokenize("Is 12 greater than 3?"));
        Assert.Equal(["how", "far", ",", "a", ".", "red"], QuestionTokenizer.Tokenize("How far, \nA. red"));
    }

    [Fact]
    public void Token_vocabulary_is_sorted_knows_every_number_and_maps_the_rest_to_unknown()
    {
        var vocabulary = TokenVocabulary.Build(["How many red circles are there?", "Is there a square?"]);
        Assert.Equal("<pad>", vocabulary.Tokens[0]);
        Assert.Equal("<unk>", vocabulary.Tokens[1]);
        Assert.Equal(vocabulary.Tokens.Skip(2).Order(StringComparer.Ordinal), vocabulary.Tokens.Skip(2));
        Assert.Contains("17", vocabulary.Tokens);
        var ids = vocabulary.Encode("How many zebras are there?", 32);
        Assert.Equal(TokenVocabulary.Unknown, ids[2]);
        Assert.Equal(3, vocabulary.Encode("How many zebras are there?", 3).Length);
    }

    [Fact]
    public void Answer_vocabulary_covers_shapesworld_answers_and_choice_letters()
    {
        var answers = AnswerVocabulary.ShapesWorld;
        foreach (var word in new[] { "yes", "no", "0", "20", "cyan", "diamond", "large", "A", "E" })
            Assert.True(answers.IdOf(word) >= 0, word);
        Assert.Equal(answers.IdOf("red"), answers.IdOf(" Red "));
        Assert.Equal(-1, answers.IdOf("zebra"));
    }
}
