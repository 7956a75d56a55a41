using System.Diagnostics;
using System.Globalization;
using FailureSynth.Events;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Teacher;
using FailureSynth.Messaging;
using FailureSynth.World.Skills;

namespace FailureSynth.Trainer;

/// <summary>What one synthesis throughput run measured.</summary>
public sealed record SynthesisBenchResult(string Mode, int Skills, int Proposals, int Checked, int Passed, double Seconds, double SamplesPerSecond,
    int BatchSize, int WorkMs);

/// <summary>
/// Synthesis throughput: the same work (proposals for the first skills of the taxonomy, fixed seeds) through
/// propose -> render -> check, either over the services (whatever replicas run) or in this process. With a
/// <c>workMs</c> above zero every sample also costs that much CPU in rendering and again in checking (a stand-in
/// for an image model or an LLM judge), in both modes.
/// </summary>
public sealed class SynthesisBench(IEventBus bus, ReplyRouter router, DataRoot root, IConfiguration configuration)
{
    public const int Skills = 16;

    /// <summary>The configured proposals per message (<see cref="BusWorkers.BatchSizeKey"/>), validated.</summary>
    public static int BatchSizeFrom(IConfiguration configuration)
    {
        int size = configuration.GetValue(BusWorkers.BatchSizeKey, SynthesisBatches.DefaultSize);
        return size is >= 1 and <= SynthesisBatches.MaxSize ? size
            : throw new InvalidOperationException($"{BusWorkers.BatchSizeKey} is {size}: proposals per synthesis message must be from 1 to {SynthesisBatches.MaxSize} (default {SynthesisBatches.DefaultSize}).");
    }

    public async Task<SynthesisBenchResult> RunAsync(string mode, int proposals, int? batchSize, int workMs, CancellationToken cancellationToken)
    {
        var config = new CampaignConfig { Name = "bench-synthesis" };
        var options = config.Teacher.ToOptions();
        var skills = SkillTaxonomy.All.Take(Skills).ToList();
        int each = Math.Max(1, proposals / skills.Count);
        int batch = batchSize ?? BatchSizeFrom(configuration);
        IProposalPipeline pipeline;
        if (mode == "services")
            pipeline = new BusWorkers(bus, router, root, "bench-" + Guid.NewGuid().ToString("N")[..12], 1, config, TimeSpan.FromMinutes(5), batch, workMs);
        else
        {
            var teacher = new EmbeddedTeacher(options);
            pipeline = new LocalProposalPipeline(teacher, new QualityFilter(teacher, config.Filter.ToOptions()));
        }
        var watch = Stopwatch.StartNew();
        var rounds = await Task.WhenAll(skills.Select((s, i) => pipeline.ProposeAndCheckAsync(
            new SkillDiagnosis(TeacherSkills.SkillText(s.Key), s.Key), each, 1000 + i, cancellationToken))).ConfigureAwait(false);
        // In-process, the same fixed cost per sample as the renderer and the filter pay over the bus, on every core.
        if (mode != "services" && workMs > 0)
            Parallel.For(0, rounds.Sum(r => r.Count), new ParallelOptions { CancellationToken = cancellationToken }, _ => SynthesisBatches.SpendCpu(2 * workMs));
        double seconds = watch.Elapsed.TotalSeconds;
        int total = rounds.Sum(r => r.Count);
        int passed = rounds.Sum(r => r.Count(c => c.Rejected is null));
        return new SynthesisBenchResult(mode, skills.Count, skills.Count * each, total, passed, Math.Round(seconds, 2),
            Math.Round(total / Math.Max(seconds, 1e-9), 1), mode == "services" ? batch : 0, workMs);
    }

    public static string Describe(SynthesisBenchResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Mode}: {r.Checked} proposals checked ({r.Passed} passed) in {r.Seconds:0.00} s = {r.SamplesPerSecond:0.0} samples/s");
}
