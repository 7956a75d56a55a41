using FailureSynth.World.Questions;

namespace FailureSynth.World.Tests;

/// <summary>
/// The random samples the property tests run over: 10,000 per shipped profile (20,000 in all),
/// half in the open form and half in the choice form, generated once and in parallel.
/// </summary>
internal static class Corpus
{
    public const long Seed = 20261122;
    public const int PerProfile = 10_000;

    private static readonly Lazy<IReadOnlyList<WorldSample>> Samples = new(Build);

    public static IReadOnlyList<WorldSample> All => Samples.Value;

    public static IReadOnlyList<WorldSample> Of(string profile) => [.. All.Where(s => s.Profile == profile)];

    private static IReadOnlyList<WorldSample> Build()
    {
        var samples = new WorldSample[Profiles.Names.Count * PerProfile];
        int half = PerProfile / 2;
        for (int p = 0; p < Profiles.Names.Count; p++)
        {
            var open = new WorldGenerator(Profiles.Get(Profiles.Names[p]), QuestionForm.Open);
            var choice = new WorldGenerator(Profiles.Get(Profiles.Names[p]), QuestionForm.Choice);
            int offset = p * PerProfile;
            Parallel.For(0, PerProfile, i =>
                samples[offset + i] = i < half ? open.Generate(Seed, i) : choice.Generate(Seed, i));
        }
        return samples;
    }
}
