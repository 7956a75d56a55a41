using System.Globalization;
using System.Text;

namespace FailureSynth.Reporting;

/// <summary>
/// Progress of a run made of stages (a campaign's "iteration 1: evaluate", a data export), written as text.
/// On a terminal (<c>live</c>) each stage is one line redrawn in place with a carriage return (stage, done/total,
/// percent, rate, ETA); when the next stage starts the finished line is kept with its time and a new one begins, so the
/// screen ends with one line per stage. Otherwise (a pipe, a CI log) it writes plain lines: one when a stage starts,
/// one when it ends (its final count and time), and in between at most one per <c>plainInterval</c>, so a log's length follows the number
/// of stages and the run's length, not the number of updates. Both the CLI and the AppHost's <c>run</c> use it.
/// Safe to call from several threads; the clock is a parameter so tests can drive time.
/// </summary>
public sealed class StageProgressView(TextWriter output, bool live, TimeProvider? clock = null, TimeSpan? plainInterval = null, int width = 0) : IDisposable
{
    /// <summary>How often a redirected run writes a line within one stage, unless the stage starts or finishes.</summary>
    public static readonly TimeSpan DefaultPlainInterval = TimeSpan.FromSeconds(10);

    // A terminal is redrawn at most this often: faster than the eye needs, far slower than a stage's updates.
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);
    private const string ClearToEndOfLine = "\u001b[K";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly TimeSpan _plainInterval = plainInterval ?? DefaultPlainInterval;
    private readonly Lock _gate = new();
    private readonly DateTimeOffset _started = (clock ?? TimeProvider.System).GetUtcNow();
    private Stage? _current;
    private bool _lineOpen; // live: the current stage's line is on screen without its newline yet

    /// <summary>True when progress is redrawn in place (a terminal), false for plain lines.</summary>
    public bool Live { get; } = live;

    /// <summary>
    /// A view on the process's standard output: live when it is a terminal (not redirected, TERM not "dumb"),
    /// truncated to the terminal's width so a redraw never wraps.
    /// </summary>
    public static StageProgressView ForConsole()
    {
        bool terminal = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not "dumb";
        int columns = 0;
        if (terminal)
        {
            try { columns = Console.WindowWidth; }
            catch (IOException) { columns = 0; } // no size known (some pseudo-terminals): lines are not truncated
        }
        return new StageProgressView(Console.Out, terminal, width: columns);
    }

    /// <summary>The latest count of <paramref name="stage"/>; a new stage name ends the previous stage.</summary>
    public void Report(string stage, long done, long total, string? note = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(stage);
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            EndOtherStage(stage, now);
            bool started = _current is null;
            var current = _current ??= new Stage(stage, now, done);
            bool newlyFinished = total > 0 && done >= total && !current.Finished;
            current.Done = done;
            current.Total = total;
            current.Note = note;
            current.Finished |= newlyFinished;
            if (Live)
            {
                if (started || newlyFinished || now - current.LastWritten >= RedrawInterval) Redraw(current, now);
            }
            else if (started || now - current.LastWritten >= _plainInterval)
            {
                WritePlain(current, LiveText(current, now), now);
            }
        }
    }

    // A report or end of another stage than the current one: the current stage's line is final now.
    private void EndOtherStage(string stage, DateTimeOffset now)
    {
        if (_current is { } previous && previous.Name != stage)
        {
            Finish(previous, now);
            _current = null;
        }
    }

    /// <summary>
    /// <paramref name="stage"/> has ended, with the last count it reported (or none: a stage seen only as ended,
    /// e.g. one that came and went between two polls): its final line is written now.
    /// </summary>
    public void End(string stage, string? note = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(stage);
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            EndOtherStage(stage, now);
            var current = _current ?? new Stage(stage, now, 0);
            current.Finished = true;
            if (note is not null) current.Note = note;
            Finish(current, now);
            _current = null;
        }
    }

    /// <summary>A message between progress lines (a note from the run, a warning): it never lands inside a redrawn line.</summary>
    public void WriteLine(string text)
    {
        lock (_gate)
        {
            if (_lineOpen)
            {
                output.Write('\n');
                _lineOpen = false;
            }
            output.WriteLine(text);
            // Live: the stage's line is drawn again below the message on its next update.
            if (_current is { } current) current.LastWritten = DateTimeOffset.MinValue;
            output.Flush();
        }
    }

    /// <summary>Ends the current stage: its final line stays on screen (live) or is written (plain) if it was not.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (_current is { } current) Finish(current, _clock.GetUtcNow());
            _current = null;
        }
    }

    public void Dispose() => Complete();

    private void Finish(Stage stage, DateTimeOffset now)
    {
        if (Live)
        {
            output.Write('\r');
            output.Write(Fit(FinalText(stage, now)));
            output.Write(ClearToEndOfLine);
            output.Write('\n');
            _lineOpen = false;
        }
        else
        {
            // Each stage's last line says how it ended, with its true final count and its time.
            WritePlain(stage, FinalText(stage, now), now);
        }
        output.Flush();
    }

    private void Redraw(Stage stage, DateTimeOffset now)
    {
        output.Write('\r');
        output.Write(Fit(LiveText(stage, now)));
        output.Write(ClearToEndOfLine);
        output.Flush();
        _lineOpen = true;
        stage.LastWritten = now;
    }

    private void WritePlain(Stage stage, string text, DateTimeOffset now)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{(now - _started).TotalSeconds,6:0.0}s] {text}"));
        output.Flush();
        stage.LastWritten = now;
    }

    private static string LiveText(Stage stage, DateTimeOffset now)
    {
        var text = new StringBuilder(96);
        text.Append(stage.Name).Append(": ").Append(Count(stage));
        if (stage.Total > 0) text.Append(CultureInfo.InvariantCulture, $" {100.0 * Math.Min(stage.Done, stage.Total) / stage.Total,3:0}%");
        if (Rate(stage, now) is { } rate)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {RateText(rate)}/s");
            if (stage.Total > stage.Done) text.Append("  ETA ").Append(Duration(TimeSpan.FromSeconds((stage.Total - stage.Done) / rate)));
        }
        if (Shown(stage.Note)) text.Append("  (").Append(stage.Note).Append(')');
        return text.ToString();
    }

    private static string FinalText(Stage stage, DateTimeOffset now)
    {
        var text = new StringBuilder(96);
        text.Append(stage.Name).Append(": ");
        if (stage.Total > 0 || stage.Done > 0) text.Append(Count(stage)).Append(' ');
        text.Append(stage.Finished ? "done" : "stopped");
        text.Append(" in ").Append(Duration(now - stage.StartedAt));
        if (Rate(stage, now) is { } rate) text.Append(CultureInfo.InvariantCulture, $"  {RateText(rate)}/s");
        if (Shown(stage.Note)) text.Append("  (").Append(stage.Note).Append(')');
        return text.ToString();
    }

    // A total of 0 means not known yet (a stage that has started but not said how much it has to do).
    private static string Count(Stage stage) => stage.Total > 0
        ? string.Create(CultureInfo.InvariantCulture, $"{stage.Done}/{stage.Total}")
        : stage.Done.ToString(CultureInfo.InvariantCulture);

    // Items per second since the stage was first seen; none until there is something to divide (a stage seen
    // part-way through, e.g. resumed, counts from where it was first seen).
    private static double? Rate(Stage stage, DateTimeOffset now)
    {
        double seconds = (now - stage.StartedAt).TotalSeconds;
        long progressed = stage.Done - stage.DoneAtStart;
        return seconds >= 0.5 && progressed > 0 ? progressed / seconds : null;
    }

    private static string RateText(double rate) => rate >= 10
        ? rate.ToString("0", CultureInfo.InvariantCulture)
        : rate.ToString("0.0", CultureInfo.InvariantCulture);

    private static string Duration(TimeSpan span) => span.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}:{span.Minutes:00}:{span.Seconds:00}")
        : span.TotalSeconds >= 60
            ? string.Create(CultureInfo.InvariantCulture, $"{span.Minutes}:{span.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0}s");

    // "done" is what several stages say when they end; the line already says so.
    private static bool Shown(string? note) => !string.IsNullOrEmpty(note) && !note.Equals("done", StringComparison.OrdinalIgnoreCase);

    // A redrawn line must not wrap: a carriage return only returns to the start of the last screen row.
    private string Fit(string text) => width > 1 && text.Length >= width ? text[..(width - 1)] : text;

    private sealed class Stage(string name, DateTimeOffset startedAt, long doneAtStart)
    {
        public string Name { get; } = name;
        public DateTimeOffset StartedAt { get; } = startedAt;
        public long DoneAtStart { get; } = doneAtStart;
        public long Done { get; set; }
        public long Total { get; set; }
        public string? Note { get; set; }
        public bool Finished { get; set; }
        public DateTimeOffset LastWritten { get; set; } = DateTimeOffset.MinValue;
    }
}
