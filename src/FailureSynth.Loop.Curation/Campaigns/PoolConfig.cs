using FailureSynth.World;

namespace FailureSynth.Loop.Campaigns;

/// <summary>Support pool for retrieval.</summary>
public sealed class PoolConfig
{
    public string Profile { get; set; } = Profiles.BalancedName;
    public int Count { get; set; } = 100_000;
    public long Seed { get; set; } = 303;
    public double K1 { get; set; } = 1.2;
    public double B { get; set; } = 0.75;

    /// <summary>
    /// Campaigns on dataset files: the user's support pool as a dataset file (any format <c>dataset inspect</c> reads), instead of
    /// a generated pool; <see cref="Count"/> questions are drawn from it with <see cref="Seed"/>. Null (left out of the JSON): generated.
    /// </summary>
    public string? File { get; set; }
    public string? Format { get; set; }
    public string? Images { get; set; }
}
