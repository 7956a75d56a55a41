using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FailureSynth.Backends;
using FailureSynth.Caching;
using FailureSynth.Events;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Locate;
using FailureSynth.Loop.Teacher;
using FailureSynth.Messaging;
using FailureSynth.World;

namespace FailureSynth.Teacher;

/// <summary>The teacher-call cache (Redis, keyed by teacher, call and input); a miss or a Redis outage just recomputes.</summary>
public sealed class TeacherCalls(RedisCallCache cache)
{
    public Task<T> GetOrCreateAsync<T>(string teacher, string call, object input, Func<CancellationToken, Task<T>> compute, CancellationToken cancellationToken) =>
        cache.GetOrCreateAsync([teacher, call, JsonSerializer.Serialize(input, WorldJson.Options)], compute, TimeSpan.FromDays(2), cancellationToken);
}

internal static class TeacherTelemetry
{
    public static readonly ActivitySource Source = new("FailureSynth.Teacher");
}

/// <summary>Locates a failure's first wrong step with the locator the request names (answer-switch by default).</summary>
public sealed class LocateHandler(IEventBus bus, TeacherSource teachers, TeacherCalls calls) : IIntegrationEventHandler<FailureCollected>
{
    public async Task HandleAsync(FailureCollected e, CancellationToken cancellationToken)
    {
        using var activity = TeacherTelemetry.Source.StartActivity("teacher.locate");
        var teacher = teachers.Get(e.Teacher);
        var l = e.Locator;
        var locator = Locators.Create(l.Method, teacher, l.Bias, l.Delta, l.Lambda, l.Seed);
        var step = await calls.GetOrCreateAsync(teacher.Name, "locate", new { e.Locator, e.Failure },
            ct => locator.LocateAsync(e.Failure, ct), cancellationToken);
        await bus.PublishAsync(new StepLocated
        {
            Id = EventIds.Derive(e.CampaignId, e.Id, "located"),
            CampaignId = e.CampaignId,
            RequestId = e.RequestId,
            Index = e.Index,
            FailureId = e.Failure.Id,
            Step = step,
        }, cancellationToken);
    }
}

/// <summary>Names the one skill missing behind a located step.</summary>
public sealed class DiagnoseHandler(IEventBus bus, TeacherSource teachers, TeacherCalls calls) : IIntegrationEventHandler<DiagnosisRequested>
{
    public async Task HandleAsync(DiagnosisRequested e, CancellationToken cancellationToken)
    {
        using var activity = TeacherTelemetry.Source.StartActivity("teacher.diagnose");
        var teacher = teachers.Get(e.Teacher);
        var diagnosis = await calls.GetOrCreateAsync(teacher.Name, "diagnose", new { e.Failure, e.Step },
            ct => teacher.DiagnoseSkillAsync(e.Failure, e.Step, ct), cancellationToken);
        await bus.PublishAsync(new SkillDiagnosed
        {
            Id = EventIds.Derive(e.CampaignId, e.Id, "diagnosed"),
            CampaignId = e.CampaignId,
            RequestId = e.RequestId,
            Index = e.Index,
            FailureId = e.Failure.Id,
            Diagnosis = diagnosis,
        }, cancellationToken);
    }
}

/// <summary>Proposes samples for a skill: says how many, then sends them on to rendering in batches of the request's size.</summary>
public sealed class ProposeHandler(IEventBus bus, TeacherSource teachers, TeacherCalls calls) : IIntegrationEventHandler<SynthesisRequested>
{
    public async Task HandleAsync(SynthesisRequested e, CancellationToken cancellationToken)
    {
        using var activity = TeacherTelemetry.Source.StartActivity("teacher.propose");
        var teacher = teachers.Get(e.Checking.Teacher);
        // The embedded teacher's proposals are a pure function of its options and the request, and cheaper to make again
        // than to store: cached, they cost a serialisation and about 0.7 KB of Redis memory each (386 MB at the paper's
        // scale, docs/throughput.md). A remote teacher's are cached, so that a redelivered request proposes the same.
        var proposals = teacher is EmbeddedTeacher
            ? await teacher.ProposeAsync(e.Skill, null, e.Count, e.Seed, cancellationToken)
            : await calls.GetOrCreateAsync(teacher.Name, "propose", new { e.Skill, e.Count, e.Seed },
                ct => teacher.ProposeAsync(e.Skill, null, e.Count, e.Seed, ct), cancellationToken);
        await bus.PublishAsync(new SynthesisProposed
        {
            Id = EventIds.Derive(e.CampaignId, e.Id, "proposed"),
            CampaignId = e.CampaignId,
            RequestId = e.RequestId,
            Proposals = proposals.Count,
        }, cancellationToken);
        // One message per batch: the publish, its confirm and the receivers' idempotency marks are paid per batch.
        // Batches are published concurrently (each awaits its broker confirm); ImageSynth replicas take them as they come.
        int batches = (proposals.Count + e.BatchSize - 1) / e.BatchSize;
        await Parallel.ForEachAsync(Enumerable.Range(0, batches), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (b, ct) =>
        {
            int start = b * e.BatchSize, end = Math.Min(proposals.Count, start + e.BatchSize);
            await bus.PublishAsync(new SampleBatchProposed
            {
                Id = EventIds.Derive(e.CampaignId, e.Id, "proposals", start.ToString(CultureInfo.InvariantCulture), end.ToString(CultureInfo.InvariantCulture)),
                CampaignId = e.CampaignId,
                RequestId = e.RequestId,
                Items = [.. Enumerable.Range(start, end - start).Select(i => new ProposedItem(i, proposals[i]))],
                Checking = e.Checking,
                WorkMs = e.WorkMs,
            }, ct);
        });
    }
}

/// <summary>Retrieves support-pool samples for demands; pools are built once per teacher and pool spec and kept.</summary>
public sealed class RetrieveHandler(IEventBus bus, TeacherSource teachers, PoolCache pools) : IIntegrationEventHandler<RetrievalRequested>
{
    public async Task HandleAsync(RetrievalRequested e, CancellationToken cancellationToken)
    {
        using var activity = TeacherTelemetry.Source.StartActivity("teacher.retrieve");
        var spec = new FailureSynth.Loop.Campaigns.PoolConfig { Profile = e.Pool.Profile, Count = e.Pool.Count, Seed = e.Pool.Seed, K1 = e.Pool.K1, B = e.Pool.B };
        var pool = await pools.For(teachers.Get(e.Teacher)).GetAsync(spec, null, cancellationToken);
        var index = new Dictionary<string, int>(pool.Samples.Count, StringComparer.Ordinal);
        for (int i = 0; i < pool.Samples.Count; i++) index[pool.Samples[i].Id] = i;
        var demandIndex = new Dictionary<Loop.Stages.SkillDemand, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < e.Demands.Count; i++) demandIndex[e.Demands[i]] = i;
        var hits = pool.Retrieve(e.Demands).Select(h => new RetrievedHit(index[h.Sample.Id], demandIndex[h.Demand], h.Score)).ToList();
        await bus.PublishAsync(new SamplesRetrieved
        {
            Id = EventIds.Derive(e.CampaignId, e.Id, "retrieved"),
            CampaignId = e.CampaignId,
            RequestId = e.RequestId,
            Hits = hits,
        }, cancellationToken);
    }
}

/// <summary>The support pools of each teacher (an embedded one per settings, or the deployment's remote teacher).</summary>
public sealed class PoolCache
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ITeacher, FailureSynth.Loop.Campaigns.SupportPools> _pools = new();

    public FailureSynth.Loop.Campaigns.SupportPools For(ITeacher teacher) => _pools.GetOrAdd(teacher, t => new FailureSynth.Loop.Campaigns.SupportPools(t));
}
