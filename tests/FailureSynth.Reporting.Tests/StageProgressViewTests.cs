using System.Text.RegularExpressions;

namespace FailureSynth.Reporting.Tests;

/// <summary>
/// The progress display shared by the CLI and the AppHost's <c>run</c>, fed a fake terminal (a writer marked live)
/// and a redirected writer, with a clock the test moves.
/// </summary>
public sealed partial class StageProgressViewTests
{
    private static readonly string[] Stages = ["iteration 1: evaluate", "iteration 1: locate", "iteration 1: train"];

    [Fact]
    public void On_a_terminal_each_stage_is_one_line_redrawn_in_place_and_kept_when_it_ends()
    {
        var clock = new ManualClock();
        var terminal = new StringWriter();
        var view = new StageProgressView(terminal, live: true, clock);
        foreach (string stage in Stages)
        {
            // 500 updates over 10 s: far more updates than a terminal needs to see.
            for (int done = 0; done <= 500; done++)
            {
                view.Report(stage, done, 500);
                clock.Advance(TimeSpan.FromMilliseconds(20));
            }
        }
        view.Complete();
        string text = terminal.ToString();

        // What the terminal shows at the end: one line per stage, each with its final count and time.
        var screen = Screen(text);
        Assert.Equal(Stages.Length, screen.Count);
        for (int i = 0; i < Stages.Length; i++)
            Assert.Matches($"^{Regex.Escape(Stages[i])}: 500/500 done in 10\\.0s  50/s$", screen[i]);
        // Drawn in place: carriage returns, one newline per stage, redraws throttled (at most ~10 a second, not 500 a stage).
        Assert.Equal(Stages.Length, text.Count(c => c == '\n'));
        int redraws = text.Count(c => c == '\r');
        Assert.InRange(redraws, 3 * 50, 3 * 110);
        Assert.Contains("\u001b[K", text);
    }

    [Fact]
    public void A_live_line_carries_rate_and_eta_and_a_message_goes_on_its_own_line()
    {
        var clock = new ManualClock();
        var terminal = new StringWriter();
        var view = new StageProgressView(terminal, live: true, clock);
        view.Report("iteration 2: synthesise", 0, 1000);
        clock.Advance(TimeSpan.FromSeconds(4));
        view.Report("iteration 2: synthesise", 400, 1000);
        // 400 in 4 s = 100/s; 600 left = 6 s.
        Assert.EndsWith("\riteration 2: synthesise: 400/1000  40%  100/s  ETA 6.0s\u001b[K", terminal.ToString(), StringComparison.Ordinal);

        view.WriteLine("Iteration 2: train already done, not redone.");
        clock.Advance(TimeSpan.FromSeconds(1));
        view.Report("iteration 2: synthesise", 500, 1000, "cache warm");
        view.Complete();
        var screen = Screen(terminal.ToString());
        Assert.Equal(
            ["iteration 2: synthesise: 400/1000  40%  100/s  ETA 6.0s", "Iteration 2: train already done, not redone.",
             "iteration 2: synthesise: 500/1000 stopped in 5.0s  100/s  (cache warm)"],
            screen);
    }

    [Fact]
    public void A_live_line_never_wraps_past_the_terminal_width()
    {
        var clock = new ManualClock();
        var terminal = new StringWriter();
        var view = new StageProgressView(terminal, live: true, clock, width: 30);
        view.Report("iteration 1: a stage with a long name", 5, 10, "and a long note after it");
        view.Complete();
        Assert.All(Screen(terminal.ToString()), line => Assert.True(line.Length <= 29, $"'{line}' is {line.Length} wide"));
    }

    [Fact]
    public void Redirected_output_gets_plain_lines_bounded_by_stages_and_time_not_by_updates()
    {
        var clock = new ManualClock();
        var log = new StringWriter();
        var view = new StageProgressView(log, live: false, clock, plainInterval: TimeSpan.FromSeconds(10));
        foreach (string stage in Stages)
        {
            // 10,000 updates over 60 s per stage.
            for (int done = 0; done <= 10_000; done++)
            {
                view.Report(stage, done, 10_000);
                clock.Advance(TimeSpan.FromMilliseconds(6));
            }
        }
        view.Complete();
        string text = log.ToString();

        Assert.DoesNotContain('\r', text);
        Assert.DoesNotContain('\u001b', text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Per stage: its start, its end, and at most one line per 10 s in between (60 s -> at most 6).
        Assert.InRange(lines.Length, 3 * 2, 3 * (2 + 6));
        Assert.All(lines, line => Assert.Matches(PlainLine(), line));
        foreach (string stage in Stages)
        {
            var own = lines.Where(l => l.Contains($"] {stage}: ", StringComparison.Ordinal)).ToList();
            Assert.Contains(": 0/10000", own[0], StringComparison.Ordinal);
            Assert.Contains(": 10000/10000 done in 1:00  167/s", own[^1], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Redirected_output_ends_each_stage_on_its_true_count_even_when_it_came_between_lines()
    {
        var clock = new ManualClock();
        var log = new StringWriter();
        var view = new StageProgressView(log, live: false, clock, plainInterval: TimeSpan.FromSeconds(10));
        view.Report("evaluate", 0, 100);
        clock.Advance(TimeSpan.FromSeconds(2));
        view.Report("evaluate", 37, 100); // within the interval: not written yet
        clock.Advance(TimeSpan.FromSeconds(1));
        view.Report("locate", 0, 0); // evaluate stopped at 37 (e.g. a cancelled run)
        view.Complete();
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["[   0.0s] evaluate: 0/100   0%", "[   3.0s] evaluate: 37/100 stopped in 3.0s  12/s", "[   3.0s] locate: 0", "[   3.0s] locate: stopped in 0.0s"], lines);
    }

    [Fact]
    public void A_stage_that_ends_keeps_its_last_count_and_one_seen_only_as_ended_still_gets_its_line()
    {
        var clock = new ManualClock();
        var terminal = new StringWriter();
        var view = new StageProgressView(terminal, live: true, clock);
        view.Report("iteration 1: evaluate", 0, 0); // started; how much it has to do is not known yet
        Assert.EndsWith("\riteration 1: evaluate: 0\u001b[K", terminal.ToString(), StringComparison.Ordinal);
        clock.Advance(TimeSpan.FromSeconds(2));
        view.Report("iteration 1: evaluate", 60, 60);
        view.End("iteration 1: evaluate");
        view.End("iteration 1: locate", "resumed");
        view.Complete();
        Assert.Equal(["iteration 1: evaluate: 60/60 done in 2.0s  30/s", "iteration 1: locate: done in 0.0s  (resumed)"], Screen(terminal.ToString()));
    }

    /// <summary>What a terminal shows: each line's text after its last carriage return, without the clear-to-end code.</summary>
    private static List<string> Screen(string output) =>
        output.Replace("\u001b[K", "", StringComparison.Ordinal).Split('\n')
            .Select(line => line[(line.LastIndexOf('\r') + 1)..])
            .Where(line => line.Length > 0)
            .ToList();

    [GeneratedRegex(@"^\[\s*\d+\.\ds\] iteration 1: [a-z]+: \d+/\d+")]
    private static partial Regex PlainLine();

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }
}
