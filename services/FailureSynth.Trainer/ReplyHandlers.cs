using FailureSynth.Events;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Filter;
using FailureSynth.Messaging;

namespace FailureSynth.Trainer;

/// <summary>The workers' replies, handed to the waiting request.</summary>
public sealed class ReplyHandlers(ReplyRouter router, IEventBus bus) :
    IIntegrationEventHandler<EvaluationAnswered>,
    IIntegrationEventHandler<StepLocated>,
    IIntegrationEventHandler<SkillDiagnosed>,
    IIntegrationEventHandler<SynthesisProposed>,
    IIntegrationEventHandler<SampleChecked>,
    IIntegrationEventHandler<SampleBatchChecked>,
    IIntegrationEventHandler<SamplesRetrieved>
{
    public Task HandleAsync(EvaluationAnswered e, CancellationToken cancellationToken) =>
        Done(router.Deliver(e.RequestId, e.Index, new EvaluationResult(e.Failures, e.Correct)));

    public Task HandleAsync(StepLocated e, CancellationToken cancellationToken) =>
        Done(router.Deliver(e.RequestId, e.Index, new LocatedFailure(e.FailureId, e.Step)));

    public Task HandleAsync(SkillDiagnosed e, CancellationToken cancellationToken) =>
        Done(router.Deliver(e.RequestId, e.Index, new DiagnosedRecord(e.FailureId, e.Diagnosis)));

    public Task HandleAsync(SynthesisProposed e, CancellationToken cancellationToken) =>
        Done(router.SetExpected(e.RequestId, e.Proposals));

    public Task HandleAsync(SampleChecked e, CancellationToken cancellationToken) =>
        Done(router.Deliver<ProposalCheck>(e.RequestId, e.Index, e.Check));

    /// <summary>Each check goes to the request by its index (a redelivered batch counts once); malformed items are dead-lettered with their reasons.</summary>
    public async Task HandleAsync(SampleBatchChecked e, CancellationToken cancellationToken)
    {
        var bad = e.ItemProblems();
        for (int i = 0; i < e.Items.Count; i++)
            if (!bad.ContainsKey(i))
            {
                var item = e.Items[i]!;
                router.Deliver(e.RequestId, item.Index, item.Check! with { ImageFile = item.ImagePath, Image = item.Picture?.ToImage() });
            }
        if (bad.Count > 0)
            await bus.DeadLetterAsync(e with { Id = EventIds.Derive(e.CampaignId, e.Id, "malformed"), Items = [.. bad.Keys.Select(i => e.Items[i])] },
                "MalformedItems: " + string.Join("; ", bad.Values), cancellationToken);
    }

    public Task HandleAsync(SamplesRetrieved e, CancellationToken cancellationToken) =>
        Done(router.Deliver(e.RequestId, 0, e.Hits));

    // A reply nobody waits for (a duplicate, or for an earlier run of the Trainer) is simply acknowledged.
    private static Task Done(bool _) => Task.CompletedTask;
}
