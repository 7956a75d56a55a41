using FailureSynth.Tensors;
using FailureSynth.TinyVlm.Training;
using FailureSynth.TinyVlm.Vocabulary;
using FailureSynth.World;

namespace FailureSynth.TinyVlm.Tests;

/// <summary>Small ShapesWorld examples and students shared by the tests.</summary>
internal static class StudentFixtures
{
    public static IReadOnlyList<WorldSample> Samples(int count, long seed = 11, string profile = "balanced")
    {
        var generator = new WorldGenerator(Profiles.Get(profile));
        return [.. Enumerable.Range(0, count).Select(i => generator.Generate(seed, i))];
    }

    public static IReadOnlyList<StudentExample> Examples(int count, long seed = 11) =>
        [.. Samples(count, seed).Select(s => StudentExample.FromWorldSample(s))];

    public static TokenVocabulary Vocabulary(IEnumerable<StudentExample> examples) =>
        TokenVocabulary.Build(examples.SelectMany(e => e.Steps.Select(s => s.Question).Prepend(e.Question)));

    /// <summary>A narrow architecture, so tests train in seconds.</summary>
    public static TinyVlmConfig Tiny(TokenVocabulary tokens) => TinyVlmConfig.Default(tokens.Count, AnswerVocabulary.ShapesWorld.Count) with
    {
        Conv1Channels = 8, Conv2Channels = 16, Conv3Channels = 16, FusionChannels = 32, ModelWidth = 32, FeedForward = 64, HeadHidden = 64,
    };

    public static TinyVlmStudent Student(IReadOnlyList<StudentExample> examples, ulong seed = 5, int threads = 2)
    {
        var tokens = Vocabulary(examples);
        return TinyVlmStudent.Create(ComputeContext.Create(threads), tokens, seed, Tiny(tokens));
    }

    public static string TempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "tinyvlm-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
