using FailureSynth.Loop.Campaigns;
using FailureSynth.Reporting;

namespace FailureSynth.Cli.Terminal;

/// <summary>
/// Progress of a multi-stage run (a campaign, an experiment) on standard output: a <see cref="CampaignProgressView"/>
/// on <see cref="StageProgressView.ForConsole"/> (one line per stage redrawn in place on a terminal, bounded plain
/// lines when redirected). The run's notes go through its <c>WriteLine</c> so they never land inside a redrawn line.
/// </summary>
public static class StageProgressDisplay
{
    /// <summary>Runs <paramref name="work"/> with a display on standard output; the last stage's line is finished however it ends.</summary>
    public static async Task<T> RunAsync<T>(Func<CampaignProgressView, Task<T>> work)
    {
        using var display = new CampaignProgressView(StageProgressView.ForConsole());
        return await work(display);
    }
}
