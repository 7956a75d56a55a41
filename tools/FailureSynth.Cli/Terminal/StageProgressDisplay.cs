using FailureSynth.Loop.Campaigns;
using FailureSynth.Reporting;

namespace FailureSynth.Cli.Terminal;

/// <summary>
/// Progress of a multi-stage run (a campaign, an experiment) on standard output through <see cref="StageProgressView"/>:
/// one line per stage redrawn in place on a terminal, bounded plain lines when redirected. The run's notes go through
/// <see cref="WriteLine"/> so they never land inside a redrawn line.
/// </summary>
public sealed class StageProgressDisplay(StageProgressView view) : IProgress<CampaignProgress>, IDisposable
{
    public StageProgressDisplay() : this(StageProgressView.ForConsole()) { }

    public void Report(CampaignProgress value) => view.Report(Label(value), value.Done, value.Total, value.Message);

    public void WriteLine(string text) => view.WriteLine(text);

    /// <summary>Runs <paramref name="work"/> with a display on standard output; the last stage's line is finished however it ends.</summary>
    public static async Task<T> RunAsync<T>(Func<StageProgressDisplay, Task<T>> work)
    {
        using var display = new StageProgressDisplay();
        return await work(display);
    }

    public void Dispose() => view.Complete();

    internal static string Label(CampaignProgress p) => p.Iteration == 0 ? p.Stage : $"iteration {p.Iteration}: {p.Stage}";
}
