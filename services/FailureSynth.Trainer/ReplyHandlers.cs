using FailureSynth.Events;
using FailureSynth.Loop.Campaigns;
using FailureSynth.Loop.Filter;
using FailureSynth.Messaging;

namespace FailureSynth.Trainer;

/// <summary>The workers' replies, handed to the waiting request.</summary>
public sealed class ReplyHandlers(ReplyRouter router) :
    IIntegrationEventHandler<EvaluationAnswered>,
    IIntegrationEventHandler<StepLocated>,
    IIntegrationEventHandler<SkillDiagnosed>,
    IIntegrationEventHandler<SynthesisProposed>,
    IIntegrationEventHandler<SampleChecked>,
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

    public Task HandleAsync(SamplesRetrieved e, CancellationToken cancellationToken) =>
        Done(router.Deliver(e.RequestId, 0, e.Hits));

    // A reply nobody waits for (a duplicate, or for an earlier run of the Trainer) is simply acknowledged.
    private static Task Done(bool _) => Task.CompletedTask;
}
