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
}
