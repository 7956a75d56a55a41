using FailureSynth.Reporting;

namespace FailureSynth.Cli.Terminal;

/// <summary>
/// Progress of one long task (an export, an evaluation) on standard output: a single stage of
/// <see cref="StageProgressView"/>, redrawn in place on a terminal and plain, bounded lines when redirected.
/// </summary>
public static class ProgressDisplay
{
    public static async Task<T> RunAsync<T>(string description, int total, Func<IProgress<int>, Task<T>> work)
    {
        using var view = StageProgressView.ForConsole();
        view.Report(description, 0, total);
        return await work(new CountProgress(done => view.Report(description, done, total)));
    }

    /// <summary>Reports on the calling thread, unlike <see cref="Progress{T}"/>, so that the last report is never lost.</summary>
    private sealed class CountProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
