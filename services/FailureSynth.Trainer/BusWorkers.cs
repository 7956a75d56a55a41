using System.Globalization;
using FailureSynth.Events;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Filter;
using FailureSynth.Loop.Stages;
using FailureSynth.Loop.Teacher;
using FailureSynth.Messaging;
using FailureSynth.World;
using FailureSynth.World.Rendering;

namespace FailureSynth.Trainer;

/// <summary>
/// A campaign's stage work done by the services: each call publishes requests and waits for every reply, which
/// it returns in request order, so the campaign is the same as in-process whichever replica answered first.
/// Request ids derive from the campaign, the Trainer's run of it (<paramref name="session"/>) and a counter.
/// Proposals travel <paramref name="batchSize"/> to a message; <paramref name="workMs"/> (benchmark only) is the fixed
/// CPU cost per sample the renderer and the filter add.
/// </summary>
public sealed class BusWorkers(IEventBus bus, ReplyRouter router, DataRoot root, string campaignId, int session, CampaignConfig config,
    TimeSpan stall, int batchSize = SynthesisBatches.DefaultSize, int workMs = 0) : ICampaignWorkers, IProposalPipeline
{
    /// <summary>The Trainer's setting for proposals per message (<c>Synthesis:BatchSize</c>, environment <c>Synthesis__BatchSize</c>).</summary>
    public const string BatchSizeKey = "Synthesis:BatchSize";

    private long _requests;

    public IProposalPipeline Proposals => this;

    private EmbeddedTeacherOptions TeacherOptions => config.Teacher.ToOptions();

    private string NextRequestId() => EventIds.Derive(campaignId, session.ToString(CultureInfo.InvariantCulture),
        Interlocked.Increment(ref _requests).ToString(CultureInfo.InvariantCulture));

    public async Task<EvaluationResult> EvaluateAsync(EvaluationWork work, Action<long, long> report, CancellationToken cancellationToken)
    {
        string checkpoint = root.StoreContentAddressed("checkpoints", work.Checkpoint, ".safetensors");
        int total = work.Split.Count;
        int batches = (total + FailureCollector.Batch - 1) / FailureCollector.Batch;
        string requestId = NextRequestId();
        using var pending = router.Expect<EvaluationResult>(requestId, "the student service", batches);
        pending.Arrived = n => report(Math.Min(total, (long)n * FailureCollector.Batch), total);
        for (int b = 0; b < batches; b++)
        {
            int start = b * FailureCollector.Batch;
            await bus.PublishAsync(new EvaluationRequested
            {
                Id = EventIds.Derive(requestId, b.ToString(CultureInfo.InvariantCulture)),
                CampaignId = campaignId,
                RequestId = requestId,
                Index = b,
                Scope = work.Scope,
                ModelVersion = work.ModelVersion,
                CheckpointPath = checkpoint,
                Split = new SplitSpec(work.Split.Profile, work.Split.Count, work.Split.Seed),
                Start = start,
                Count = Math.Min(FailureCollector.Batch, total - start),
                ImageSize = work.ImageSize,
                Threads = work.Threads,
            }, cancellationToken).ConfigureAwait(false);
        }
        var replies = await pending.WaitAsync(stall, cancellationToken).ConfigureAwait(false);
        return new EvaluationResult([.. replies.SelectMany(r => r.Failures)], replies.Sum(r => r.Correct));
    }

    public async Task<IReadOnlyList<LocatedFailure>> LocateAsync(IReadOnlyList<Failure> failures, Action<long, long> report, CancellationToken cancellationToken)
    {
        string requestId = NextRequestId();
        using var pending = router.Expect<LocatedFailure>(requestId, "the teacher service", failures.Count);
        pending.Arrived = n => report(n, failures.Count);
        var locator = new LocatorSpec(config.Locate.Method, config.Locate.Bias, config.Locate.Delta, config.Locate.Lambda, config.Seed);
        await PublishAllAsync(failures.Count, i => new FailureCollected
        {
            Id = EventIds.Derive(requestId, i.ToString(CultureInfo.InvariantCulture)),
            CampaignId = campaignId,
            RequestId = requestId,
            Index = i,
            Failure = failures[i],
            Teacher = TeacherOptions,
            Locator = locator,
        }, cancellationToken).ConfigureAwait(false);
        return await pending.WaitAsync(stall, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DiagnosedRecord>> DiagnoseAsync(IReadOnlyList<(Failure Failure, LocatedStep Step)> located, Action<long, long> report, CancellationToken cancellationToken)
    {
        string requestId = NextRequestId();
        using var pending = router.Expect<DiagnosedRecord>(requestId, "the teacher service", located.Count);
        pending.Arrived = n => report(n, located.Count);
        await PublishAllAsync(located.Count, i => new DiagnosisRequested
        {
            Id = EventIds.Derive(requestId, i.ToString(CultureInfo.InvariantCulture)),
            CampaignId = campaignId,
            RequestId = requestId,
            Index = i,
            Failure = located[i].Failure,
            Step = located[i].Step,
            Teacher = TeacherOptions,
        }, cancellationToken).ConfigureAwait(false);
        return await pending.WaitAsync(stall, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ProposalCheck>> ProposeAndCheckAsync(SkillDiagnosis skill, int n, long seed, CancellationToken cancellationToken)
    {
        string requestId = NextRequestId();
        using var pending = router.Expect<ProposalCheck>(requestId, "the synthesis services (teacher, imagesynth, qualityfilter)", null);
        await bus.PublishAsync(new SynthesisRequested
        {
            Id = EventIds.Derive(requestId, "synthesise"),
            CampaignId = campaignId,
            RequestId = requestId,
            Skill = skill,
            Count = n,
            Seed = seed,
            Checking = new SampleChecking(TeacherOptions, config.Filter.ToOptions(), SceneRasterizer.DefaultSize),
            BatchSize = batchSize,
            WorkMs = workMs,
        }, cancellationToken).ConfigureAwait(false);
        return await pending.WaitAsync(stall, cancellationToken).ConfigureAwait(false);
    }

    private async Task PublishAllAsync<TEvent>(int count, Func<int, TEvent> create, CancellationToken cancellationToken) where TEvent : IntegrationEvent =>
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (i, ct) => await bus.PublishAsync(create(i), ct).ConfigureAwait(false)).ConfigureAwait(false);

    public async Task<IReadOnlyList<(WorldSample Sample, SkillDemand Demand)>> RetrieveAsync(IReadOnlyList<SkillDemand> demands, PoolConfig pool, Action<long, long> report, CancellationToken cancellationToken)
    {
        string requestId = NextRequestId();
        using var pending = router.Expect<IReadOnlyList<RetrievedHit>>(requestId, "the teacher service", 1);
        await bus.PublishAsync(new RetrievalRequested
        {
            Id = EventIds.Derive(requestId, "retrieve"),
            CampaignId = campaignId,
            RequestId = requestId,
            Demands = demands,
            Pool = new PoolSpec(pool.Profile, pool.Count, pool.Seed, pool.K1, pool.B),
            Teacher = TeacherOptions,
        }, cancellationToken).ConfigureAwait(false);
        var hits = (await pending.WaitAsync(stall, cancellationToken).ConfigureAwait(false))[0];
        // The hits name pool samples by index: the generator gives the same sample here as in the teacher.
        var generator = new WorldGenerator(Profiles.Resolve(pool.Profile));
        var result = new List<(WorldSample, SkillDemand)>(hits.Count);
        foreach (var hit in hits)
        {
            if (hit.PoolIndex < 0 || hit.PoolIndex >= pool.Count || hit.DemandIndex < 0 || hit.DemandIndex >= demands.Count)
                throw new InvalidDataException($"The teacher's retrieval named pool sample {hit.PoolIndex} for demand {hit.DemandIndex}, outside the pool (0..{pool.Count - 1}) or the demands (0..{demands.Count - 1}).");
            result.Add((generator.Generate(pool.Seed, hit.PoolIndex), demands[hit.DemandIndex]));
        }
        report(hits.Count, hits.Count);
        return result;
    }
}
