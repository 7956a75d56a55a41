using FailureSynth.Loop.Common;
using FailureSynth.World;
using FailureSynth.World.Questions;

namespace FailureSynth.Loop.Teacher;

/// <summary>
/// The embedded teacher's world knowledge: the joint distribution of the exact step answers of each
/// question layout (family and step count), estimated by Monte Carlo from ShapesWorld's generative
/// prior (the balanced profile). It never sees a particular validation scene, only what rationales of
/// such questions look like in general. Built once, on first use, deterministically from the seed.
/// </summary>
public sealed class StepPrior
{
    /// <summary>One distinct tuple of step answers and its prior probability within its layout.</summary>
    public sealed record Outcome(string[] Steps, double Weight);

    private readonly Lazy<IReadOnlyDictionary<string, IReadOnlyList<Outcome>>> _layouts;

    /// <param name="seed">Seeds the Monte-Carlo sample.</param>
    /// <param name="samples">Generated questions the estimate is built from.</param>
    public StepPrior(long seed, int samples = 30_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 100);
        Seed = seed;
        Samples = samples;
        _layouts = new(() => Build(seed, samples));
    }

    public long Seed { get; }
    public int Samples { get; }

    /// <summary>Layout key of a program: family and number of reasoning steps.</summary>
    public static string LayoutOf(QuestionProgram program) => $"{QuestionKeys.Of(program.Family)}/{Reasoning.StepCount(program)}";

    /// <summary>The distinct step-answer tuples of <paramref name="program"/>'s layout with their prior weights (empty for a layout never seen).</summary>
    public IReadOnlyList<Outcome> For(QuestionProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        return _layouts.Value.TryGetValue(LayoutOf(program), out var outcomes) ? outcomes : [];
    }

    private static IReadOnlyDictionary<string, IReadOnlyList<Outcome>> Build(long seed, int samples)
    {
        var generator = new WorldGenerator(Profiles.Balanced);
        long stream = StableHash.Seed("teacher-prior", seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var generated = new WorldSample[samples];
        Parallel.For(0, samples, i => generated[i] = generator.Generate(stream, i));

        var byLayout = new SortedDictionary<string, SortedDictionary<string, (string[] Steps, int Count)>>(StringComparer.Ordinal);
        foreach (WorldSample sample in generated)
        {
            string layout = LayoutOf(sample.Program);
            if (!byLayout.TryGetValue(layout, out var counts)) byLayout[layout] = counts = new(StringComparer.Ordinal);
            string[] steps = [.. sample.Steps.Select(s => s.Answer)];
            string key = string.Join('\u001f', steps);
            counts[key] = counts.TryGetValue(key, out var c) ? (c.Steps, c.Count + 1) : (steps, 1);
        }
        var result = new Dictionary<string, IReadOnlyList<Outcome>>(StringComparer.Ordinal);
        foreach (var (layout, counts) in byLayout)
        {
            double total = counts.Values.Sum(v => v.Count);
            result[layout] = [.. counts.Values.Select(v => new Outcome(v.Steps, v.Count / total))];
        }
        return result;
    }
}
