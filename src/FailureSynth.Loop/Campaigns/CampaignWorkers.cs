using FailureSynth.Loop.Common;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Locate;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Student;
using FailureSynth.Tensors;
using FailureSynth.TinyVlm;
using FailureSynth.World;

namespace FailureSynth.Loop.Campaigns;

/// <summary>
/// The evaluate stage's work: the student whose checkpoint is given answers the validation split.
/// <see cref="Samples"/> is the split generated in-process; a remote worker regenerates it from <see cref="Split"/>.
/// </summary>
public sealed record EvaluationWork(string Scope, byte[] Checkpoint, string ModelVersion, SplitConfig Split, IReadOnlyList<WorldSample> Samples, int ImageSize, int Threads);

/// <summary>What the evaluate stage found: failures in validation order, and how many answers were right.</summary>
public sealed record EvaluationResult(IReadOnlyList<Failure> Failures, int Correct);

/// <summary>
/// The stage work a campaign hands out: evaluation by the student, locating and diagnosing by the teacher, and
/// the propose-render-check pipeline of synthesis. <see cref="CampaignRunner"/> keeps the decisions (which
/// failures, demands, filter decisions, training, promotion) and the stage files; the workers run either in
/// this process (<see cref="InProcessWorkers"/>) or in the services. Every method's result depends only on
/// its arguments, so both give the same campaign.
/// </summary>
public interface ICampaignWorkers
{
    Task<EvaluationResult> EvaluateAsync(EvaluationWork work, Action<long, long> report, CancellationToken cancellationToken);

    /// <summary>The located step of each failure, in the order given.</summary>
    Task<IReadOnlyList<LocatedFailure>> LocateAsync(IReadOnlyList<Failure> failures, Action<long, long> report, CancellationToken cancellationToken);

    /// <summary>The diagnosis of each located failure, in the order given.</summary>
    Task<IReadOnlyList<DiagnosedRecord>> DiagnoseAsync(IReadOnlyList<(Failure Failure, LocatedStep Step)> located, Action<long, long> report, CancellationToken cancellationToken);

    /// <summary>Propose -> render -> check, for synthesis.</summary>
    IProposalPipeline Proposals { get; }

    /// <summary>
    /// Seed 002's retrieval: the top-K pool samples per demand from the support pool <paramref name="pool"/> describes
    /// (built, with the teacher's skill texts, on first use), in demand order, each pool sample at most once.
    /// </summary>
    Task<IReadOnlyList<(WorldSample Sample, SkillDemand Demand)>> RetrieveAsync(IReadOnlyList<SkillDemand> demands, PoolConfig pool, Action<long, long> report, CancellationToken cancellationToken);
}

/// <summary>The workers of an in-process campaign: the embedded student and teacher, called directly.</summary>
public sealed class InProcessWorkers(ComputeContext context, ITeacher teacher, IStepLocator locator, QualityFilter filter) : ICampaignWorkers
{
    private readonly SupportPools _pools = new(teacher);

    public IProposalPipeline Proposals { get; } = new LocalProposalPipeline(teacher, filter);

    /// <summary>The student of the evaluate stage; null: the embedded TinyVLM of the work's checkpoint.</summary>
    public Func<EvaluationWork, IStudent>? Student { get; init; }

    public async Task<EvaluationResult> EvaluateAsync(EvaluationWork work, Action<long, long> report, CancellationToken cancellationToken)
    {
        IStudent student = Student?.Invoke(work) ?? new EmbeddedStudent(TinyVlmStudent.FromBytes(work.Checkpoint, context, work.ModelVersion), work.ModelVersion);
        var (failures, correct) = await FailureCollector.CollectAsync(student, work.Samples, work.Scope, work.ImageSize,
            new SyncProgress<int>(n => report(n, work.Samples.Count)), cancellationToken).ConfigureAwait(false);
        return new EvaluationResult([.. failures.Select(f => f.Failure)], correct);
    }

    public async Task<IReadOnlyList<LocatedFailure>> LocateAsync(IReadOnlyList<Failure> failures, Action<long, long> report, CancellationToken cancellationToken)
    {
        var list = new List<LocatedFailure>(failures.Count);
        foreach (var f in failures)
        {
            list.Add(new LocatedFailure(f.Id, await locator.LocateAsync(f, cancellationToken).ConfigureAwait(false)));
            report(list.Count, failures.Count);
        }
        return list;
    }

    public async Task<IReadOnlyList<DiagnosedRecord>> DiagnoseAsync(IReadOnlyList<(Failure Failure, LocatedStep Step)> located, Action<long, long> report, CancellationToken cancellationToken)
    {
        var list = new List<DiagnosedRecord>(located.Count);
        foreach (var (f, step) in located)
        {
            list.Add(new DiagnosedRecord(f.Id, await teacher.DiagnoseSkillAsync(f, step, cancellationToken).ConfigureAwait(false)));
            report(list.Count, located.Count);
        }
        return list;
    }

    public async Task<IReadOnlyList<(WorldSample Sample, SkillDemand Demand)>> RetrieveAsync(IReadOnlyList<SkillDemand> demands, PoolConfig pool, Action<long, long> report, CancellationToken cancellationToken)
    {
        var built = await _pools.GetAsync(pool, report, cancellationToken).ConfigureAwait(false);
        return [.. built.Retrieve(demands).Select(h => (h.Sample, h.Demand))];
    }
}
