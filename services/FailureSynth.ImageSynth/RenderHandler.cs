using System.Diagnostics;
using FailureSynth.Events;
using FailureSynth.Imaging;
using FailureSynth.Loop.Filter;
using FailureSynth.Messaging;
using FailureSynth.World.Rendering;

namespace FailureSynth.ImageSynth;

/// <summary>
/// Renders a proposal's scene spec. A proposal whose form is wrong (the filter's schema check) is not rendered:
/// it goes on with the problem, and the quality filter records the rejection.
/// </summary>
public sealed partial class RenderHandler(IEventBus bus, DataRoot root, ILogger<RenderHandler> logger) : IIntegrationEventHandler<SampleProposed>
{
    private static readonly ActivitySource Source = new("FailureSynth.ImageSynth");

    public async Task HandleAsync(SampleProposed e, CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("imagesynth.render");
        string? problem = QualityFilter.SchemaProblem(e.Proposal);
        string? path = null;
        if (problem is null)
        {
            var image = SceneRasterizer.Render(e.Proposal.Scene!, e.Checking.ImageSize);
            path = root.StoreContentAddressed("images", PngEncoder.Encode(image), ".png");
        }
        else LogNotRendered(logger, e.Proposal.Id, problem);
        await bus.PublishAsync(new SampleRendered
        {
            Id = EventIds.Derive(e.CampaignId, e.Id, "rendered"),
            CampaignId = e.CampaignId,
            RequestId = e.RequestId,
            Index = e.Index,
            Proposal = e.Proposal,
            Checking = e.Checking,
            ImagePath = path,
            RenderProblem = problem,
        }, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {Proposal} not rendered: {Problem}")]
    private static partial void LogNotRendered(ILogger logger, string proposal, string problem);
}

/// <summary>
/// Renders a batch of proposals and publishes one <see cref="SampleBatchRendered"/> for it. A malformed item (no
/// proposal, a bad or repeated index) is dead-lettered alone with its reason; a proposal whose form is wrong goes
/// on unrendered with the problem, as in <see cref="RenderHandler"/>. The pictures travel in the message while
/// they fit <see cref="SynthesisBatches.InlinePictureBudget"/>; any beyond it are stored as PNGs named by their
/// content, so a redelivered batch writes nothing new and publishes the same event.
/// </summary>
public sealed partial class BatchRenderHandler(IEventBus bus, DataRoot root, ILogger<BatchRenderHandler> logger) : IIntegrationEventHandler<SampleBatchProposed>
{
    private static readonly ActivitySource Source = new("FailureSynth.ImageSynth");

    public async Task HandleAsync(SampleBatchProposed e, CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("imagesynth.render-batch");
        activity?.SetTag("failuresynth.batch.size", e.Items.Count);
        var bad = e.ItemProblems();
        var rendered = new List<RenderedItem>(e.Items.Count - bad.Count);
        long inlineRoom = SynthesisBatches.InlinePictureBudget;
        for (int i = 0; i < e.Items.Count; i++)
        {
            if (bad.ContainsKey(i)) continue;
            cancellationToken.ThrowIfCancellationRequested();
            var item = e.Items[i]!;
            var proposal = item.Proposal!;
            string? problem = QualityFilter.SchemaProblem(proposal);
            string? path = null;
            InlinePicture? picture = null;
            if (problem is null)
            {
                var image = SceneRasterizer.Render(proposal.Scene!, e.Checking.ImageSize);
                picture = SynthesisBatches.TryInline(image, ref inlineRoom);
                // These PNGs only carry pixels to the filter (and, by the same bytes, to a bench's dataset): encoded for speed.
                if (picture is null) path = root.StoreContentAddressed("images", PngEncoder.Encode(image, PngEncoderOptions.Transit), ".png");
            }
            else LogNotRendered(logger, proposal.Id, problem);
            SynthesisBatches.SpendCpu(e.WorkMs);
            rendered.Add(new RenderedItem(item.Index, proposal, path, problem, picture));
        }
        if (rendered.Count > 0)
            await bus.PublishAsync(new SampleBatchRendered
            {
                Id = EventIds.Derive(e.CampaignId, e.Id, "rendered"),
                CampaignId = e.CampaignId,
                RequestId = e.RequestId,
                Items = rendered,
                Checking = e.Checking,
                WorkMs = e.WorkMs,
            }, cancellationToken);
        if (bad.Count > 0)
            await bus.DeadLetterAsync(e with { Id = EventIds.Derive(e.CampaignId, e.Id, "malformed"), Items = [.. bad.Keys.Select(i => e.Items[i])] },
                "MalformedItems: " + string.Join("; ", bad.Values), cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {Proposal} not rendered: {Problem}")]
    private static partial void LogNotRendered(ILogger logger, string proposal, string problem);
}
