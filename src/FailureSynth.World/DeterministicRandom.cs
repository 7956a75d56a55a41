namespace FailureSynth.World;

/// <summary>
/// A small, explicit, portable pseudo-random generator (SplitMix64). Every random choice in
/// ShapesWorld goes through one of these, created from a seed, so that a seed fixes a result
/// on every machine and .NET version. <see cref="Derive"/> makes independent streams, e.g. one
/// per sample index, so that parallel generation gives the same result as sequential.
/// </summary>
public sealed class DeterministicRandom(ulong seed)
{
    private ulong _state = seed;

    public static DeterministicRandom Derive(long seed, params long[] path)
    {
        ulong s = Mix((ulong)seed ^ 0x5DEECE66DUL);
        foreach (long p in path)
            s = Mix(s ^ Mix((ulong)p + 0x9E3779B97F4A7C15UL));
        return new DeterministicRandom(s);
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, maxExclusive).</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        // Lemire's multiply-shift with rejection: unbiased.
        ulong m = (ulong)maxExclusive;
        while (true)
        {
            ulong x = NextUInt64();
            UInt128 prod = (UInt128)x * m;
            ulong low = (ulong)prod;
            if (low >= m || low >= (0UL - m) % m)
                return (int)(prod >> 64);
        }
    }

    /// <summary>Uniform integer in [minInclusive, maxExclusive).</summary>
    public int NextInt(int minInclusive, int maxExclusive) => minInclusive + NextInt(maxExclusive - minInclusive);

    /// <summary>Index drawn with probability proportional to <paramref name="weights"/>.</summary>
    public int NextWeighted(IReadOnlyList<double> weights)
    {
        double total = 0;
        foreach (double w in weights)
        {
            if (w < 0 || double.IsNaN(w)) throw new ArgumentException("weights must be non-negative", nameof(weights));
            total += w;
        }
        if (total <= 0) throw new ArgumentException("weights must not all be zero", nameof(weights));
        double r = NextDouble() * total;
        for (int i = 0; i < weights.Count; i++)
        {
            r -= weights[i];
            if (r < 0) return i;
        }
        for (int i = weights.Count - 1; i >= 0; i--)
            if (weights[i] > 0) return i;
        return weights.Count - 1;
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[NextInt(items.Count)];

    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
