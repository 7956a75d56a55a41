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
