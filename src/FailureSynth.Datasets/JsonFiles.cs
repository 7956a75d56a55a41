using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using System.Text.Json;

namespace FailureSynth.Datasets;

/// <summary>Parsing and writing settings shared by every dataset file, so that all of them behave and look alike.</summary>
internal static partial class JsonFiles
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

    /// <summary>
    /// Parses a whole JSON file. Refuses an empty file, any byte sequence that is not UTF-8 (Python's json.load, which
    /// the reference loaders of LLaVA, VQA v2 and ScienceQA use, refuses the whole file too, even when the bad bytes
    /// sit in a field nobody reads) and malformed JSON, each with the line and byte.
    /// </summary>
    public static JsonDocument Parse(string path)
    {
        var bytes = ReadAll(path);
        var body = WithoutBom(bytes);
        if (IsBlank(body.Span))
            throw Empty(path, bytes.Length);
        RequireUtf8(path, body.Span, lineLabel: null, firstLine: 1);
        try
        {
            return JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw SyntaxError(path, e, lineOffset: 0, lineLabel: null);
        }
    }

    /// <summary>Reads a file whole, turning a missing or unreadable file into a message about it.</summary>
    public static byte[] ReadAll(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetFormatException(path, null, null,
                $"cannot be opened ({e.Message}); check that the file exists and is readable", inner: e);
        }
    }

    /// <summary>
    /// The non-blank lines of a JSONL file with their one-based numbers, each checked to be UTF-8 on its own so that a
    /// bad byte is reported on the line that holds it. A UTF-8 byte-order mark before the first line is skipped.
    /// </summary>
    public static IEnumerable<(long Number, ReadOnlyMemory<byte> Text)> Lines(string path, byte[] bytes)
    {
        var rest = WithoutBom(bytes);
        long number = 0;
        while (rest.Length > 0)
        {
            number++;
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (IsBlank(line.Span)) continue;
            RequireUtf8(path, line.Span, $"line {number.ToString(CultureInfo.InvariantCulture)}", number);
            yield return (number, line);
        }
    }

    /// <summary>Parses one line of a JSONL file.</summary>
    public static JsonDocument ParseLine(string path, ReadOnlyMemory<byte> text, long lineNumber)
    {
        try
        {
            return JsonDocument.Parse(text, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw SyntaxError(path, e, lineOffset: lineNumber - 1, lineLabel: $"line {lineNumber.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    /// <summary>The message for a file with nothing in it: it says "empty" rather than guessing at a format.</summary>
    public static DatasetFormatException Empty(string path, long length) =>
        new(path, null, null, length == 0
            ? "empty (0 bytes); the download or copy is incomplete, or this is the wrong file"
            : $"empty: its {length.ToString(CultureInfo.InvariantCulture)} bytes are only whitespace; the download or copy is incomplete, or this is the wrong file");

    /// <summary>True when the text has no JSON in it at all: only spaces, tabs and line breaks.</summary>
    public static bool IsBlank(ReadOnlySpan<byte> text) => text.IndexOfAnyExcept(" \t\r\n"u8) < 0;

    public static ReadOnlyMemory<byte> WithoutBom(byte[] bytes) =>
        bytes.AsSpan().StartsWith(Utf8Bom) ? bytes.AsMemory(Utf8Bom.Length) : bytes.AsMemory();

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private static void RequireUtf8(string path, ReadOnlySpan<byte> text, string? lineLabel, long firstLine)
    {
        if (Utf8.IsValid(text)) return;
        var offset = FirstInvalidByte(text);
        var before = text[..offset];
        var line = firstLine + before.Count((byte)'\n');
        var column = offset - (before.LastIndexOf((byte)'\n') + 1) + 1;
        throw new DatasetFormatException(path, lineLabel, null,
            $"not valid UTF-8 at line {line.ToString(CultureInfo.InvariantCulture)}, byte {column.ToString(CultureInfo.InvariantCulture)} (byte 0x{text[offset]:X2}); "
            + "Python's json.load refuses such a file as a whole, so re-save it as UTF-8 (a file saved in Latin-1 or cut in the middle of a character usually causes this)",
            line: line);
    }

    private static int FirstInvalidByte(ReadOnlySpan<byte> text)
    {
        Span<char> buffer = stackalloc char[1024];
        var offset = 0;
        while (true)
        {
            var status = Utf8.ToUtf16(text[offset..], buffer, out var read, out _, replaceInvalidSequences: false);
            offset += read;
            if (status is OperationStatus.InvalidData or OperationStatus.NeedMoreData || offset >= text.Length) return Math.Min(offset, text.Length - 1);
        }
    }

    private static DatasetFormatException SyntaxError(string path, JsonException e, long lineOffset, string? lineLabel)
    {
        // JsonException positions are zero-based; editors count lines from one and columns from one.
        var line = (e.LineNumber ?? 0) + 1 + lineOffset;
        var column = (e.BytePositionInLine ?? 0) + 1;
        return new DatasetFormatException(path, lineLabel, null,
            $"malformed JSON at line {line.ToString(CultureInfo.InvariantCulture)}, byte {column.ToString(CultureInfo.InvariantCulture)}: {Explain(e.Message)}. "
            + "Fix the syntax there (a truncated download or a hand edit usually causes this).",
            line: line, inner: e);
    }

    /// <summary>
    /// Says what is wrong in JSON terms. The parser's own text speaks of reader options and final blocks, which
    /// mean nothing to someone holding a dataset file, so its cases are recognised and told in plain words.
    /// </summary>
    private static string Explain(string parserMessage)
    {
        // The parser appends its own position ("LineNumber: 2 | BytePositionInLine: 21."), which the caller already gives.
        var cut = parserMessage.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) parserMessage = parserMessage[..cut];
        var found = QuotedToken().Match(parserMessage);
        var at = found.Success ? $" (found '{found.Groups[1].Value}')" : "";
        bool Says(string words) => parserMessage.Contains(words, StringComparison.OrdinalIgnoreCase);
        if (Says("comment") || (found.Success && found.Groups[1].Value == "/")) return "a comment; JSON has no comments, so remove it";
        if (Says("trailing comma")) return "a comma before a closing ] or }; JSON does not allow a trailing comma";
        if (Says("maximum configured depth")) return "arrays or objects nested deeper than 256 levels";
        if (Says("Expected depth to be zero") || Says("reached end of data") || Says("does not contain any JSON tokens"))
            return "the file ends before the JSON does: a string, array or object is not closed";
        if (Says("after a single JSON value")) return $"more text after the end of the JSON value{at}; a file holds one value (one record per line is JSONL, named .jsonl)";
        if (Says("within a JSON string")) return $"a control character inside a string{at}; write it as an escape such as \\n or \\t";
        if (Says("escapable character") || Says("hex digit")) return $"an invalid escape sequence in a string{at}";
        if (Says("invalid UTF-16") || Says("surrogate")) return "an escaped character that is not a valid Unicode character";
        if (Says("after a property name")) return $"a ':' is missing after a property name{at}";
        if (Says("start of a property name")) return $"a property name in double quotes was expected{at}";
        if (Says("after a value")) return $"a ',' or a closing ] or }} is missing after a value{at}";
        if (Says("end of a number") || Says("digit") || Says("number")) return $"a malformed number{at}";
        if (Says("literal")) return $"an unknown word{at}; JSON's words are true, false and null";
        if (Says("start of a value")) return $"a value was expected{at}";
        return $"the text is not valid JSON here{at}";
    }

    [GeneratedRegex("'([^']{1,20})'")]
    private static partial Regex QuotedToken();

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
