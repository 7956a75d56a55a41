using System.Globalization;

namespace FailureSynth.World;

/// <summary>
/// Sampling weights over every value of an enum, held in enum order so that sampling never
/// depends on dictionary order. Weights are relative; <see cref="Probability"/> normalises.
/// </summary>
public sealed class WeightTable<T> where T : struct, Enum
{
    private static readonly T[] Values = Enum.GetValues<T>();
    private readonly double[] _weights;

    private WeightTable(double[] weights) => _weights = weights;

    /// <summary>Equal weight on every value.</summary>
    public static WeightTable<T> Uniform() => new([.. Values.Select(_ => 1.0)]);

    /// <summary>
    /// Explicit weights; every value of <typeparamref name="T"/> must be given exactly once, so
    /// that a forgotten value is an error rather than a silent zero.
    /// </summary>
    public static WeightTable<T> Of(params (T Value, double Weight)[] weights)
    {
        var result = new double[Values.Length];
        var seen = new bool[Values.Length];
        foreach ((T value, double weight) in weights)
        {
            int i = Array.IndexOf(Values, value);
            if (i < 0) throw new ArgumentException($"{value} is not a value of {typeof(T).Name}.", nameof(weights));
            if (seen[i]) throw new ArgumentException($"{typeof(T).Name}.{value} is given twice; give each value one weight.", nameof(weights));
            if (!(weight >= 0) || double.IsInfinity(weight))
                throw new ArgumentException($"The weight of {typeof(T).Name}.{value} is {weight.ToString(CultureInfo.InvariantCulture)}; weights must be finite and non-negative.", nameof(weights));
            seen[i] = true;
            result[i] = weight;
        }
        var missing = Values.Where((_, i) => !seen[i]).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"No weight given for {typeof(T).Name} value(s) {string.Join(", ", missing)}; give every value a weight (0 to exclude it).", nameof(weights));
        if (result.Sum() <= 0)
            throw new ArgumentException($"All {typeof(T).Name} weights are zero; at least one must be positive.", nameof(weights));
        return new WeightTable<T>(result);
    }

    public double Weight(T value) => _weights[Array.IndexOf(Values, value)];

    /// <summary>The declared probability of <paramref name="value"/>: its weight over the total.</summary>
    public double Probability(T value) => Weight(value) / _weights.Sum();

    /// <summary>Values with their weights, in enum order.</summary>
    public IReadOnlyList<(T Value, double Weight)> Entries => [.. Values.Select((v, i) => (v, _weights[i]))];

    public T Sample(DeterministicRandom rng) => Values[rng.NextWeighted(_weights)];

    /// <summary>A value other than <paramref name="excluded"/>, drawn with the remaining weights (uniformly if they are all zero).</summary>
    public T SampleOtherThan(T excluded, DeterministicRandom rng)
    {
        int skip = Array.IndexOf(Values, excluded);
        double[] rest = [.. _weights.Select((w, i) => i == skip ? 0 : w)];
        if (rest.Sum() <= 0) rest = [.. _weights.Select((_, i) => i == skip ? 0.0 : 1.0)];
        return Values[rng.NextWeighted(rest)];
    }
}
