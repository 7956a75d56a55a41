using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Stages;

namespace FailureSynth.Loop.Campaigns;

/// <summary>Support pools built once per pool spec (building one has the teacher describe every sample).</summary>
public sealed class SupportPools(ITeacher teacher)
{
    private readonly Dictionary<(string, int, long, double, double), Task<SupportPool>> _pools = [];
    private readonly Lock _gate = new();

    public Task<SupportPool> GetAsync(PoolConfig pool, Action<long, long>? report, CancellationToken cancellationToken)
    {
        var key = (pool.Profile, pool.Count, pool.Seed, pool.K1, pool.B);
        lock (_gate)
        {
            if (!_pools.TryGetValue(key, out var task) || task.IsFaulted || task.IsCanceled)
                _pools[key] = task = SupportPool.BuildAsync(teacher, pool.Profile, pool.Count, pool.Seed, pool.K1, pool.B,
                    new SyncProgress<int>(n => report?.Invoke(n, pool.Count)), cancellationToken);
            return task;
        }
    }
}
