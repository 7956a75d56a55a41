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

/// <summary>
/// The checks of <see cref="CheckHandler"/> on a batch, published as one <see cref="SampleBatchChecked"/>. A malformed
/// item (no proposal, neither image nor render problem, a path outside the data root, a bad or repeated index) is
/// dead-lettered alone with its reason; the rest of the batch goes on.
/// </summary>
public sealed class BatchCheckHandler(IEventBus bus, DataRoot root, TeacherSource teachers) : IIntegrationEventHandler<SampleBatchRendered>
{
    private static readonly ActivitySource Source = new("FailureSynth.QualityFilter");

    public async Task HandleAsync(SampleBatchRendered e, CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("qualityfilter.check-batch");
        activity?.SetTag("failuresynth.batch.size", e.Items.Count);
        var bad = e.ItemProblems();
        var filter = new Loop.Filter.QualityFilter(teachers.Get(e.Checking.Teacher), e.Checking.Filter, e.Checking.ImageSize);
        var checks = new List<CheckedItem>(e.Items.Count - bad.Count);
        for (int i = 0; i < e.Items.Count; i++)
        {
            if (bad.ContainsKey(i)) continue;
            var item = e.Items[i]!;
            RgbImage? image = item.Picture is { } picture ? picture.ToImage()
                : item.ImagePath is null ? null : PngDecoder.DecodeFile(root.Resolve(item.ImagePath));
            var check = await filter.CheckAsync(item.Proposal!, image, cancellationToken);
            SynthesisBatches.SpendCpu(e.WorkMs);
            // The picture goes on with a passing check only: the Trainer keeps accepted samples, never rejected ones.
            checks.Add(check.Rejected is null ? new CheckedItem(item.Index, check, item.ImagePath, item.Picture) : new CheckedItem(item.Index, check));
        }
        if (checks.Count > 0)
            await bus.PublishAsync(new SampleBatchChecked
            {
                Id = EventIds.Derive(e.CampaignId, e.Id, "checked"),
                CampaignId = e.CampaignId,
                RequestId = e.RequestId,
                Items = checks,
            }, cancellationToken);
        if (bad.Count > 0)
            await bus.DeadLetterAsync(e with { Id = EventIds.Derive(e.CampaignId, e.Id, "malformed"), Items = [.. bad.Keys.Select(i => e.Items[i])] },
                "MalformedItems: " + string.Join("; ", bad.Values), cancellationToken);
    }
}
