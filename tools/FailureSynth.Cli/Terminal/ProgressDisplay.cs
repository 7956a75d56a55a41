using Spectre.Console;

namespace FailureSynth.Cli.Terminal;

/// <summary>
/// Shows progress of a long task: a live Spectre.Console bar on an interactive terminal, and
/// plain periodic lines when output is redirected (CI logs, pipes), so that logs stay readable.
/// </summary>
public static class ProgressDisplay
{
    public static async Task<T> RunAsync<T>(string description, int total, Func<IProgress<int>, Task<T>> work)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            return await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                         new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask(description, maxValue: Math.Max(total, 1));
                    var progress = new SynchronousProgress(done => task.Value = done);
                    T result = await work(progress);
                    task.Value = task.MaxValue;
                    return result;
                });
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        long lastReport = -1;
        var plain = new SynchronousProgress(done =>
        {
            long second = started.ElapsedMilliseconds / 2000;
            if (second == lastReport && done < total) return;
            lastReport = second;
            Console.WriteLine($"{description}: {done}/{total} ({100.0 * done / Math.Max(total, 1):F0}%, {started.Elapsed.TotalSeconds:F1}s)");
        });
        return await work(plain);
    }

    /// <summary>Reports on the calling thread, unlike <see cref="Progress{T}"/>, so that the last report is never lost.</summary>
    private sealed class SynchronousProgress(Action<int> report) : IProgress<int>
    {
        private readonly Lock _gate = new();
        public void Report(int value)
        {
            lock (_gate) report(value);
        }
    }
}
