using System.Globalization;
using FailureSynth.Loop.Contracts;
using FailureSynth.Loop.Teacher;

namespace FailureSynth.Events;

/// <summary>Collects what is wrong with an event's fields, each problem naming the field (the dead-letter reason).</summary>
public sealed class EventChecks
{
    private readonly List<string> _problems = [];

    public static IReadOnlyList<string> Collect(Action<EventChecks> checks)
    {
        var c = new EventChecks();
        checks(c);
        return c._problems;
    }

    public void Problem(string text) => _problems.Add(text);

    public void Present(string field, object? value)
    {
        if (value is null) _problems.Add($"{field} is missing");
    }

    public void Text(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) _problems.Add($"{field} is missing or empty");
    }

    public void Range(string field, long value, long min, long max)
    {
        if (value < min || value > max) _problems.Add(string.Create(CultureInfo.InvariantCulture, $"{field} is {value}, outside {min}..{max}"));
    }

    public void Items<T>(string field, IReadOnlyList<T>? items)
    {
        if (items is null) { _problems.Add($"{field} is missing"); return; }
        for (int i = 0; i < items.Count; i++)
            if (items[i] is null) _problems.Add($"{field}[{i}] is null");
    }

    /// <summary>A path under the data root: relative, no '..' segment.</summary>
    public void RelativePath(string field, string? path)
    {
        if (string.IsNullOrWhiteSpace(path)) { _problems.Add($"{field} is missing or empty"); return; }
        if (Path.IsPathRooted(path) || path.Split('/', '\\').Any(part => part == ".."))
            _problems.Add($"{field} '{path}' must be a path inside the data root (relative, without '..')");
    }

    public void Failure(string field, Failure? failure)
    {
        if (failure is null) { _problems.Add($"{field} is missing"); return; }
        Text(field + ".Id", failure.Id);
        Present(field + ".Question", failure.Question);
        if (failure.Question is not null) Text(field + ".Question.Text", failure.Question.Text);
        Text(field + ".Gold", failure.Gold);
        Present(field + ".Predicted", failure.Predicted);
        Items(field + ".Steps", failure.Steps);
        if (failure.Steps is { Count: 0 }) _problems.Add($"{field}.Steps is empty (a failure to analyse needs the student's rationale)");
    }

    public void Teacher(string field, EmbeddedTeacherOptions? options)
    {
        if (options is null) { _problems.Add($"{field} is missing"); return; }
        try { options.Validate(); }
        catch (ArgumentException e) { _problems.Add($"{field}: {e.Message}"); }
    }

    public void Checking(string field, SampleChecking? checking)
    {
        if (checking is null) { _problems.Add($"{field} is missing"); return; }
        Teacher(field + ".Teacher", checking.Teacher);
        if (checking.Filter is null) _problems.Add($"{field}.Filter is missing");
        else
        {
            try { checking.Filter.Validate(); }
            catch (ArgumentException e) { _problems.Add($"{field}.Filter: {e.Message}"); }
        }
        Range(field + ".ImageSize", checking.ImageSize, 8, 512);
    }
}
