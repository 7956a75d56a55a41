using System.Globalization;
using FailureSynth.Imaging;
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

    /// <summary>A picture carried in a message: a size of at least 1 x 1, and exactly width x height x 3 bytes, at most <see cref="SynthesisBatches.InlinePictureBudget"/>.</summary>
    public void Picture(string field, InlinePicture? picture)
    {
        if (picture is null) { _problems.Add($"{field} is missing"); return; }
        if (picture.Width < 1 || picture.Height < 1 || picture.Width > RgbImage.MaxDimension || picture.Height > RgbImage.MaxDimension)
        {
            _problems.Add(string.Create(CultureInfo.InvariantCulture, $"{field} is {picture.Width} x {picture.Height} pixels, outside 1..{RgbImage.MaxDimension} on each side"));
            return;
        }
        long expected = InlinePicture.BytesFor(picture.Width, picture.Height);
        if (picture.Rgb is null) _problems.Add($"{field}.Rgb is missing");
        else if (picture.Rgb.Length != expected)
            _problems.Add(string.Create(CultureInfo.InvariantCulture, $"{field}.Rgb holds {picture.Rgb.Length} bytes, but {picture.Width} x {picture.Height} RGB pixels are {expected}"));
        else if (expected > SynthesisBatches.InlinePictureBudget)
            _problems.Add(string.Create(CultureInfo.InvariantCulture, $"{field} holds {expected} bytes, more than a message carries ({SynthesisBatches.InlinePictureBudget}); a picture this large goes by ImagePath"));
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
