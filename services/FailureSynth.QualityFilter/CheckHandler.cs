using System.Diagnostics;
using FailureSynth.Backends;
using FailureSynth.Events;
using FailureSynth.Imaging;
using FailureSynth.Messaging;

namespace FailureSynth.QualityFilter;

/// <summary>
/// The per-proposal checks of the quality filter, on the image ImageSynth rendered: schema, the answer
/// re-verified by executing the program on the scene, and the judge's score (through the teacher). The
/// decisions that compare proposals (near-duplicates, per-skill caps) are taken by the Trainer in proposal-id
/// order, so the dataset does not depend on which replica checked what first.
/// </summary>
public sealed class CheckHandler(IEventBus bus, DataRoot root, TeacherSource teachers) : IIntegrationEventHandler<SampleRendered>
{
    private static readonly ActivitySource Source = new("FailureSynth.QualityFilter");

    public async Task HandleAsync(SampleRendered e, CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("qualityfilter.check");
        RgbImage? image = e.ImagePath is null ? null : PngDecoder.DecodeFile(root.Resolve(e.ImagePath));
        var filter = new Loop.Filter.QualityFilter(teachers.Get(e.Checking.Teacher), e.Checking.Filter, e.Checking.ImageSize);
        var check = await filter.CheckAsync(e.Proposal, image, cancellationToken);
        await bus.PublishAsync(new SampleChecked
        {
            Id = EventIds.Derive(e.CampaignId, e.Id, "checked"),
            CampaignId = e.CampaignId,
            RequestId = e.RequestId,
            Index = e.Index,
            Check = check,
        }, cancellationToken);
    }
}
