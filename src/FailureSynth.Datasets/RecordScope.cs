using System.Globalization;
using System.Text.Json;

namespace FailureSynth.Datasets;

/// <summary>
/// The record a reader is looking at, with typed field accessors that fail with the file, record and field named.
/// </summary>
/// <param name="File">Full path of the file being read.</param>
/// <param name="Label">How the record is named in messages without its id, e.g. "record 3" or "line 7".</param>
internal readonly record struct RecordScope(string File, string Label, int? Index = null, string? Id = null, long? Line = null)
{
    /// <summary>The label with the id added once it is known: <c>record 3 (id "x")</c>.</summary>
    public string Describe() => Id is null ? Label : $"{Label} ({IdLabel} {(QuoteId ? JsonFiles.Quote(Id) : Id)})";

    /// <summary>What the id is called in messages ("id", "question_id", "pid").</summary>
    public string IdLabel { get; init; } = "id";

    /// <summary>False for numeric ids such as VQA v2 question ids, which read better unquoted.</summary>
    public bool QuoteId { get; init; } = true;

    public DatasetFormatException Fail(string? field, string problem) =>
        new(File, Describe(), field, problem, Index, Id, Line);

    public RecordScope WithId(string id) => this with { Id = id };

    public JsonElement RequireObject(JsonElement element, string? field)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Fail(field, $"expected an object, found {JsonFiles.Describe(element.ValueKind)}");
        return element;
    }

    public JsonElement Require(JsonElement obj, string name, string? path = null)
    {
        if (!obj.TryGetProperty(name, out var value))
            throw Fail(path ?? name, "missing; add this required field");
        return value;
    }

    public string RequireString(JsonElement obj, string name, string? path = null, bool allowEmpty = false) =>
        AsString(Require(obj, name, path), path ?? name, allowEmpty);

    public string AsString(JsonElement value, string path, bool allowEmpty = false)
    {
        if (value.ValueKind != JsonValueKind.String)
            throw Fail(path, $"expected a string, found {JsonFiles.Describe(value.ValueKind)}");
        string text;
        try
        {
            text = value.GetString()!;
        }
        catch (InvalidOperationException e) when (e.InnerException is System.Text.DecoderFallbackException)
        {
            throw Fail(path, "holds an escaped character that is not valid Unicode (a lone surrogate such as \\ud800); replace or remove it");
        }

        if (!allowEmpty && string.IsNullOrWhiteSpace(text))
            throw Fail(path, "empty string; it must hold text");
        return text;
    }

    /// <summary>A string field that may be absent or null.</summary>
    public string? OptionalString(JsonElement obj, string name, string? path = null, bool allowEmpty = true)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return AsString(value, path ?? name, allowEmpty);
    }

    public long RequireInteger(JsonElement obj, string name, string? path = null) =>
        AsInteger(Require(obj, name, path), path ?? name);

    public long AsInteger(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Number)
            throw Fail(path, $"expected an integer, found {JsonFiles.Describe(value.ValueKind)}");
        if (!value.TryGetInt64(out var number))
            throw Fail(path, $"expected an integer, found {value.GetRawText()}");
        return number;
    }

    public JsonElement RequireArray(JsonElement obj, string name, string? path = null)
    {
        var value = Require(obj, name, path);
        if (value.ValueKind != JsonValueKind.Array)
            throw Fail(path ?? name, $"expected an array, found {JsonFiles.Describe(value.ValueKind)}");
        return value;
    }

    /// <summary>An array of strings that may be absent or null; every element must be a non-empty string.</summary>
    public IReadOnlyList<string>? OptionalStringList(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Array)
            throw Fail(name, $"expected an array of strings, found {JsonFiles.Describe(value.ValueKind)}");
        var list = new List<string>(value.GetArrayLength());
        var i = 0;
        foreach (var item in value.EnumerateArray())
            list.Add(AsString(item, Indexed(name, i++)));
        return list;
    }

    public static string Indexed(string name, int index) => name + "[" + index.ToString(CultureInfo.InvariantCulture) + "]";
}
