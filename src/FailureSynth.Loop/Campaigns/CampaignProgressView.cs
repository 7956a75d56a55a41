using FailureSynth.Reporting;

namespace FailureSynth.Loop.Campaigns;

/// <summary>
/// A campaign's progress on a <see cref="StageProgressView"/>, for the CLI (in-process) and the AppHost (polling the
/// Trainer). It reads <see cref="CampaignRunner"/>'s framing of a stage: <c>0/1</c> when it starts (its size not known
/// yet), its own counts while it runs, <c>1/1 "done"</c> (or <c>"resumed"</c>) when it ends, so the display shows the
/// stage's real counts and ends it on them.
/// </summary>
public sealed class CampaignProgressView(StageProgressView view) : IProgress<CampaignProgress>, IDisposable
{
    public void Report(CampaignProgress value)
    {
        string label = value.Iteration == 0 ? value.Stage : $"iteration {value.Iteration}: {value.Stage}";
        switch (value.Message)
        {
            case "done":
                view.End(label);
                break;
            case "resumed":
                view.End(label, "resumed");
                break;
            case null when value is { Done: 0, Total: 1 }:
                view.Report(label, 0, 0); // started; its own count comes next
                break;
            default:
                view.Report(label, value.Done, value.Total, value.Message);
                break;
        }
    }

    /// <summary>A note from the run, between progress lines.</summary>
    public void WriteLine(string text) => view.WriteLine(text);

    public void Dispose() => view.Complete();
}
