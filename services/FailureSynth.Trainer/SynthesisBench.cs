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
public sealed record SynthesisBenchResult(string Mode, int Skills, int Proposals, int Checked, int Passed, double Seconds, double SamplesPerSecond);

/// <summary>
/// Synthesis throughput: the same work (proposals for the first skills of the taxonomy, fixed seeds) through
/// propose -> render -> check, either over the services (whatever replicas run) or in this process.
/// </summary>
public sealed class SynthesisBench(IEventBus bus, ReplyRouter router, DataRoot root)
{
    public const int Skills = 16;

    public async Task<SynthesisBenchResult> RunAsync(string mode, int proposals, CancellationToken cancellationToken)
    {
        var config = new CampaignConfig { Name = "bench-synthesis" };
        var options = config.Teacher.ToOptions();
        var skills = SkillTaxonomy.All.Take(Skills).ToList();
        int each = Math.Max(1, proposals / skills.Count);
        IProposalPipeline pipeline;
        if (mode == "services")
            pipeline = new BusWorkers(bus, router, root, "bench-" + Guid.NewGuid().ToString("N")[..12], 1, config, TimeSpan.FromMinutes(5));
        else
        {
            var teacher = new EmbeddedTeacher(options);
            pipeline = new LocalProposalPipeline(teacher, new QualityFilter(teacher, config.Filter.ToOptions()));
        }
        var watch = Stopwatch.StartNew();
        var rounds = await Task.WhenAll(skills.Select((s, i) => pipeline.ProposeAndCheckAsync(
            new SkillDiagnosis(TeacherSkills.SkillText(s.Key), s.Key), each, 1000 + i, cancellationToken))).ConfigureAwait(false);
        double seconds = watch.Elapsed.TotalSeconds;
        int total = rounds.Sum(r => r.Count);
        int passed = rounds.Sum(r => r.Count(c => c.Rejected is null));
        return new SynthesisBenchResult(mode, skills.Count, skills.Count * each, total, passed, Math.Round(seconds, 2),
            Math.Round(total / Math.Max(seconds, 1e-9), 1));
    }

    public static string Describe(SynthesisBenchResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Mode}: {r.Checked} proposals checked ({r.Passed} passed) in {r.Seconds:0.00} s = {r.SamplesPerSecond:0.0} samples/s");
}
