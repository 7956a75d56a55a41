using FailureSynth.World;

namespace FailureSynth.Loop.Common;

/// <summary>Draws without replacement from a seeded stream (a partial Fisher-Yates shuffle), the same on every machine.</summary>
public static class DeterministicDraw
{
    /// <summary>The first min(<paramref name="count"/>, <paramref name="total"/>) indices of a seeded shuffle of 0..total-1, in draw order.</summary>
    public static int[] Indices(int total, int count, DeterministicRandom rng)
    {
        var order = Enumerable.Range(0, total).ToArray();
        int n = Math.Min(count, order.Length);
        for (int i = 0; i < n; i++)
        {
            int j = i + rng.NextInt(order.Length - i);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order[..n];
    }
}
