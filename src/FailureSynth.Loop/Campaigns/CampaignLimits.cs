using System.Globalization;

namespace FailureSynth.Loop.Campaigns;

/// <summary>
/// Upper bounds on every budget and count of a campaign. <see cref="Absolute"/> applies to every campaign (CLI included)
/// and only stops values no machine could run; a server that takes campaigns from callers applies a stricter set
/// (<see cref="Server"/> by default, configurable), so one request cannot ask for billions of samples.
/// </summary>
public sealed record CampaignLimits(
    int Iterations,
    int SplitCount,
    int BaseSteps,
    int Failures,
    int Samples,
    int TrainSteps,
    int PoolCount,
    int PriorSamples,
    int PerSkillCap,
    int Lambda,
    int Threads)
{
    /// <summary>What no campaign may exceed: about ten times the largest experiment in the README.</summary>
    public static CampaignLimits Absolute { get; } = new(
        Iterations: 20, SplitCount: 1_000_000, BaseSteps: 200_000, Failures: 200_000, Samples: 200_000, TrainSteps: 200_000,
        PoolCount: 1_000_000, PriorSamples: 1_000_000, PerSkillCap: 1_000_000, Lambda: 1_000, Threads: 1_024);

    /// <summary>
    /// The campaign API's defaults: room for the demo campaign (20,000-sample splits, 100,000-sample pool) and the
    /// README's largest budgets (4,000 samples), and no more.
    /// </summary>
    public static CampaignLimits Server { get; } = new(
        Iterations: 10, SplitCount: 50_000, BaseSteps: 20_000, Failures: 10_000, Samples: 20_000, TrainSteps: 20_000,
        PoolCount: 200_000, PriorSamples: 100_000, PerSkillCap: 20_000, Lambda: 100, Threads: 64);

    /// <summary>Every value of <paramref name="config"/> over a limit, each naming its key, the value and the limit.</summary>
    public IReadOnlyList<string> Problems(CampaignConfig config, string where = "")
    {
        ArgumentNullException.ThrowIfNull(config);
        var p = new List<string>();
        void Max(string key, long value, int limit)
        {
            if (value > limit)
                p.Add(string.Create(CultureInfo.InvariantCulture, $"{key} is {value}, over the limit of {limit}{where}"));
        }
        Max("iterations", config.Iterations, Iterations);
        Max("threads", config.Threads, Threads);
        if (config.Student is { } student)
        {
            if (student.Base is { } b) Max("student.base.count", b.Count, SplitCount);
            Max("student.base_steps", student.BaseSteps, BaseSteps);
        }
        if (config.Validation is { } v) Max("validation.count", v.Count, SplitCount);
        if (config.Test is { } t) Max("test.count", t.Count, SplitCount);
        if (config.Budget is { } budget)
        {
            Max("budget.failures", budget.Failures, Failures);
            Max("budget.samples", budget.Samples, Samples);
            Max("budget.train_steps", budget.TrainSteps, TrainSteps);
        }
        if (config.Pool is { } pool) Max("pool.count", pool.Count, PoolCount);
        if (config.Teacher is { } teacher) Max("teacher.prior_samples", teacher.PriorSamples, PriorSamples);
        if (config.Filter is { } filter) Max("filter.per_skill_cap", filter.PerSkillCap, PerSkillCap);
        if (config.Locate is { } locate) Max("locate.lambda", locate.Lambda, Lambda);
        return p;
    }
}
