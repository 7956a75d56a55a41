namespace FailureSynth.Datasets;

/// <summary>A dataset file that cannot be read as its format requires; names the format, the file, the record and the field.</summary>
public sealed class DatasetFormatException : Exception
{
    public DatasetFormatException(
        string file, string? record, string? field, string problem,
        int? recordIndex = null, string? recordId = null, long? line = null, Exception? inner = null, string? format = null)
        : base(Compose(file, format, record, field, problem), inner)
    {
        File = file;
        Format = format;
        Record = record;
        Field = field;
        Problem = problem;
        RecordIndex = recordIndex;
        RecordId = recordId;
        Line = line;
    }

    /// <summary>
    /// The format the file was read as, as users know it ("LLaVA JSON", "VQA v2", "LLaMA-Factory sharegpt", ...);
    /// null only while the format is still unknown (detection).
    /// </summary>
    public string? Format { get; }

    /// <summary>Full path of the offending file.</summary>
    public string File { get; }

    /// <summary>Human description of the record, e.g. <c>record 17 (id "x")</c>, <c>line 4</c> or <c>problem "12"</c>; null for file-level errors.</summary>
    public string? Record { get; }

    /// <summary>Field path inside the record, e.g. <c>conversations[1].value</c>; null when the whole record or file is at fault.</summary>
    public string? Field { get; }

    /// <summary>What is wrong and what to do, without the file/record/field prefix.</summary>
    public string Problem { get; }

    /// <summary>Zero-based index of the record in its array, when it has one.</summary>
    public int? RecordIndex { get; }

    /// <summary>Id of the record (LLaVA id, question_id, ScienceQA pid), when known.</summary>
    public string? RecordId { get; }

    /// <summary>One-based line number: the JSONL line, or the line of a JSON syntax error.</summary>
    public long? Line { get; }

    /// <summary>
    /// The same error with the format named. Readers throw without it and the loader that chose the format adds it
    /// once, so every message says which format the file was read as; an error that already names one keeps it.
    /// </summary>
    public DatasetFormatException WithFormat(string format) =>
        Format is not null ? this : new(File, Record, Field, Problem, RecordIndex, RecordId, Line, InnerException, format);

    private static string Compose(string file, string? format, string? record, string? field, string problem)
    {
        var text = System.IO.Path.GetFileName(file);
        if (format is not null) text += " (" + format + ")";
        if (record is not null) text += ": " + record;
        if (field is not null) text += ": field \"" + field + "\"";
        return text + ": " + problem;
    }
}
