using System.Text.Encodings.Web;
using System.Text.Json;

namespace FailureSynth.Datasets;

/// <summary>Parsing and writing settings shared by every dataset file, so that all of them behave and look alike.</summary>
internal static class JsonFiles
{
    /// <summary>
    /// Output settings for every file FailureSynth writes. Fixed so that identical inputs give identical bytes:
    /// two-space indentation, "\n" line breaks on every OS, and the relaxed encoder so that "&lt;image&gt;" and
    /// non-ASCII text stay readable (the files are never embedded in HTML).
    /// </summary>
    public static JsonWriterOptions Indented { get; } = new()
    {
        Indented = true,
        IndentSize = 2,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Same as <see cref="Indented"/> but on one line, for JSONL records.</summary>
    public static JsonWriterOptions Compact { get; } = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 256 };

    /// <summary>Parses a whole JSON file, turning a syntax error into a message with the file, line and byte.</summary>
    public static JsonDocument Parse(string path)
    {
        FileStream stream;
        try
        {
            stream = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetFormatException(path, null, null,
                $"cannot be opened ({e.Message}); check that the file exists and is readable", inner: e);
        }

        using (stream)
        {
            try
            {
                return JsonDocument.Parse(stream, DocumentOptions);
            }
            catch (JsonException e)
            {
                throw SyntaxError(path, e, lineOffset: 0, lineLabel: null);
            }
        }
    }

    /// <summary>Parses one line of a JSONL file.</summary>
    public static JsonDocument ParseLine(string path, string text, long lineNumber)
    {
        try
        {
            return JsonDocument.Parse(text, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw SyntaxError(path, e, lineOffset: lineNumber - 1, lineLabel: $"line {lineNumber}");
        }
    }

    private static DatasetFormatException SyntaxError(string path, JsonException e, long lineOffset, string? lineLabel)
    {
        // JsonException positions are zero-based; editors count lines from one and columns from one.
        var line = (e.LineNumber ?? 0) + 1 + lineOffset;
        var column = (e.BytePositionInLine ?? 0) + 1;
        var reason = e.Message;
        var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) reason = reason[..cut];
        return new DatasetFormatException(path, lineLabel, null,
            $"malformed JSON at line {line}, byte {column}: {reason.TrimEnd()} Fix the syntax there (a truncated download or a hand edit usually causes this).",
            line: line, inner: e);
    }

    /// <summary>Names a JSON value kind the way the error messages say it.</summary>
    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>Quotes a value for a message, shortening long text so that messages stay one line.</summary>
    public static string Quote(string value)
    {
        var shown = value.Length > 60 ? value[..57] + "..." : value;
        return JsonSerializer.Serialize(shown, QuoteOptions);
    }

    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
