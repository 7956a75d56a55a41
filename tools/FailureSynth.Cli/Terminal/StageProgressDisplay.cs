using System.Globalization;
using FailureSynth.Loop.Campaigns;
using Spectre.Console;

namespace FailureSynth.Cli.Terminal;

/// <summary>
/// Progress of a multi-stage run (a campaign, an experiment): one bar per stage on an interactive terminal,
/// and on redirected output one plain line per stage start and end plus a line every few seconds.
/// </summary>
public static class StageProgressDisplay
{
    public static async Task<T> RunAsync<T>(Func<IProgress<CampaignProgress>, Task<T>> work)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            return await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                    var gate = new Lock();
                    var progress = new Synchronous(p =>
                    {
                        lock (gate)
                        {
                            string key = Label(p);
                            if (!tasks.TryGetValue(key, out var task)) tasks[key] = task = ctx.AddTask(Markup.Escape(key), maxValue: Math.Max(1, p.Total));
                            task.MaxValue = Math.Max(1, p.Total);
                            task.Value = Math.Min(p.Done, p.Total);
                        }
                    });
                    return await work(progress);
                });
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        string? current = null;
        long lastLine = 0;
        var plain = new Synchronous(p =>
        {
            string key = Label(p);
            bool changed = key != current;
            bool finished = p.Total > 0 && p.Done >= p.Total;
            if (!changed && !finished && watch.ElapsedMilliseconds - lastLine < 5000) return;
            current = key;
            lastLine = watch.ElapsedMilliseconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{watch.Elapsed.TotalSeconds,6:0.0}s] {key}: {p.Done}/{p.Total}{(p.Message is null ? "" : " (" + p.Message + ")")}"));
        });
        return await work(plain);
    }

    private static string Label(CampaignProgress p) => p.Iteration == 0 ? p.Stage : $"iteration {p.Iteration}: {p.Stage}";

    private sealed class Synchronous(Action<CampaignProgress> report) : IProgress<CampaignProgress>
    {
        private readonly Lock _gate = new();
        public void Report(CampaignProgress value)
        {
            lock (_gate) report(value);
        }
    }
}
