using System.Text;

namespace FailureSynth.Tensors;

/// <summary>
/// Small deterministic random number generator (SplitMix64) used for parameter initialisation, dropout
/// masks and test data, so that a seed fully determines every random draw of the engine.
/// </summary>
/// <remarks>
/// The engine deliberately has no project dependencies, so it carries its own generator instead of
/// FailureSynth.World's. SplitMix64's n-th output is a pure function of (seed, n), which lets dropout
/// draw masks in parallel (<see cref="At"/>) without depending on the thread count.
/// </remarks>
public sealed class SplitMix64(ulong seed)
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;
    private ulong state = seed;
    private double? spareNormal;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        state += Gamma;
        return Mix(state);
    }

    /// <summary>A uniform float in [0, 1) with 24 random mantissa bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>A uniform double in [0, 1) with 53 random mantissa bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform float in [low, high).</summary>
    public float NextUniform(float low, float high) => low + (high - low) * NextFloat();

    /// <summary>A uniform integer in [0, maxExclusive), without modulo bias.</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "NextInt needs a positive upper bound.");
        }

        // Lemire's multiply-shift with rejection keeps every value equally likely.
        var bound = (ulong)maxExclusive;
        var threshold = (0UL - bound) % bound;
        while (true)
        {
            var product = Math.BigMul(NextUInt64(), bound, out var low);
            if (low >= threshold)
            {
                return (int)product;
            }
        }
    }

    /// <summary>A standard normal sample (Box-Muller; the second value of each pair is kept for the next call).</summary>
    public float NextNormal()
    {
        if (spareNormal is { } spare)
        {
            spareNormal = null;
            return (float)spare;
        }

        // 1 - u keeps the logarithm's argument in (0, 1].
        var radius = Math.Sqrt(-2.0 * Math.Log(1.0 - NextDouble()));
        var angle = 2.0 * Math.PI * NextDouble();
        spareNormal = radius * Math.Sin(angle);
        return (float)(radius * Math.Cos(angle));
    }

    /// <summary>A normal sample with the given mean and standard deviation.</summary>
    public float NextNormal(float mean, float std) => mean + std * NextNormal();

    /// <summary>An independent generator seeded from this one (advances this generator by one draw).</summary>
    public SplitMix64 Fork() => new(NextUInt64());

    /// <summary>A generator for the named sub-stream of <paramref name="seed"/>; the same path always gives the same stream.</summary>
    public static SplitMix64 Derive(ulong seed, params ReadOnlySpan<string> path)
    {
        var mixed = Mix(seed);
        foreach (var part in path)
        {
            // FNV-1a over the UTF-8 bytes, then SplitMix's finaliser, so "a","bc" and "ab","c" differ.
            var hash = 0xCBF29CE484222325UL;
            foreach (var b in Encoding.UTF8.GetBytes(part))
            {
                hash = (hash ^ b) * 0x100000001B3UL;
            }

            mixed = Mix(mixed ^ Mix(hash + (ulong)part.Length));
        }

        return new SplitMix64(mixed);
    }

    /// <summary>The <paramref name="index"/>-th output of a SplitMix64 stream started at <paramref name="seed"/>, computed directly.</summary>
    public static ulong At(ulong seed, long index) => Mix(seed + (ulong)(index + 1) * Gamma);

    /// <summary>SplitMix64's output finaliser (a bijective bit mixer).</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
