using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FailureSynth.Datasets;

/// <summary>
/// Writes questions in the official VQA v2 layout of the abstract-scenes release, which is what a rendered PNG scene is:
/// <code>
/// DIR/OpenEnded_abstract_v002_{subtype}_questions.json   {info, task_type, data_type, data_subtype, license, questions}
/// DIR/abstract_v002_{subtype}_annotations.json           {info, license, data_type, data_subtype, annotations}
/// DIR/{subtype}/abstract_v002_{subtype}_{image_id:D12}.png
/// DIR/provenance.jsonl                                  one sample per line (id = question_id) with its provenance
/// DIR/manifest.json                                     SHA-256 of every file (written last)
/// </code>
/// A sample without <see cref="VqaSample.AllAnswers"/> gets its one answer as all ten human answers. The same entries
/// in the same order give byte-identical files. Not thread-safe: add from one thread, in the final order.
/// </summary>
public sealed partial class VqaV2Writer : IDisposable
{
    /// <summary>The data_type of VQA's abstract scenes; it also prefixes the file and image names.</summary>
    public const string DataType = "abstract_v002";

    /// <summary>Human answers per question in the official annotations.</summary>
    public const int HumanAnswers = 10;

    private readonly FileStream questionsStream;
    private readonly FileStream annotationsStream;
    private readonly Utf8JsonWriter questions;
    private readonly Utf8JsonWriter annotations;
    private readonly ProvenanceFile provenance;
    private readonly HashSet<long> questionIds = [];
    private readonly Dictionary<long, byte[]> imageHashes = [];
    private readonly SampleTally tally = new();
    private bool completed;
    private bool disposed;

    /// <param name="subtype">The split, VQA's data_subtype (for example "val2015"); it names the files and the image folder.</param>
    public VqaV2Writer(string directory, string subtype, string datasetName, DatasetWriterOptions? options = null)
    {
        ValidateSplitName(subtype, "subtype");
        if (string.IsNullOrWhiteSpace(datasetName))
            throw new ArgumentException("The dataset name is empty; give the name the manifest records.", nameof(datasetName));
        Directory = Path.GetFullPath(directory);
        Subtype = subtype;
        Name = datasetName;
        DatasetWriter.PrepareFolder(Directory, options?.Overwrite ?? false);
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, subtype));

        var opened = new List<IDisposable>();
        try
        {
            questionsStream = Open(QuestionsFileName(subtype), opened);
            annotationsStream = Open(AnnotationsFileName(subtype), opened);
            provenance = new ProvenanceFile(Path.Combine(Directory, DatasetLayout.ProvenanceFile));
        }
        catch
        {
            foreach (var stream in opened) stream.Dispose();
            throw;
        }

        questions = new Utf8JsonWriter(questionsStream, JsonFiles.Indented);
        questions.WriteStartObject();
        WriteInfo(questions);
        questions.WriteString("task_type", "Open-Ended");
        questions.WriteString("data_type", DataType);
        questions.WriteString("data_subtype", subtype);
        WriteLicense(questions);
        questions.WriteStartArray("questions");

        annotations = new Utf8JsonWriter(annotationsStream, JsonFiles.Indented);
        annotations.WriteStartObject();
        WriteInfo(annotations);
        WriteLicense(annotations);
        annotations.WriteString("data_type", DataType);
        annotations.WriteString("data_subtype", subtype);
        annotations.WriteStartArray("annotations");
    }

    /// <summary>Full path of the dataset folder.</summary>
    public string Directory { get; }

    /// <summary>The split written, VQA's data_subtype.</summary>
    public string Subtype { get; }

    /// <summary>Name the manifest records.</summary>
    public string Name { get; }

    /// <summary>Questions added so far.</summary>
    public int Count => tally.Count;

    /// <summary>The official name of the questions file of a split.</summary>
    public static string QuestionsFileName(string subtype) => $"OpenEnded_{DataType}_{subtype}_questions.json";

    /// <summary>The official name of the annotations file of a split.</summary>
    public static string AnnotationsFileName(string subtype) => $"{DataType}_{subtype}_annotations.json";

    /// <summary>
    /// Writes one question. <paramref name="answerType"/> is VQA's "yes/no", "number" or "other";
    /// <paramref name="questionType"/> is free text (VQA uses the question's opening words). Several questions may share
    /// an image id when they carry the same PNG.
    /// </summary>
    public void Add(DatasetRecord record, long imageId, long questionId, string answerType, string questionType)
    {
        ArgumentNullException.ThrowIfNull(record);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (completed) throw new InvalidOperationException("The dataset is already complete; start a new VqaV2Writer to write another.");
        DatasetWriter.Validate(record);
        var sample = record.Sample;
        if (record.Png.IsEmpty)
            throw new ArgumentException($"Sample \"{sample.Id}\" has no image; every VQA v2 question is about an image.", nameof(record));
        if (imageId < 0 || questionId < 0)
            throw new ArgumentException($"Sample \"{sample.Id}\": image_id {imageId} and question_id {questionId} must not be negative.", nameof(record));
        if (answerType is not ("yes/no" or "number" or "other"))
            throw new ArgumentException($"Sample \"{sample.Id}\": answer_type \"{answerType}\" is not one of VQA's \"yes/no\", \"number\", \"other\".", nameof(answerType));
        if (string.IsNullOrWhiteSpace(questionType))
            throw new ArgumentException($"Sample \"{sample.Id}\": question_type is empty.", nameof(questionType));
        if (!questionIds.Add(questionId))
            throw new ArgumentException($"question_id {questionId} was already added; every question needs its own id.", nameof(questionId));

        string image = VqaV2Reader.ImagePath(DataType, Subtype, imageId);
        byte[] hash = System.Security.Cryptography.SHA256.HashData(record.Png.Span);
        if (imageHashes.TryGetValue(imageId, out var earlier))
        {
            if (!earlier.AsSpan().SequenceEqual(hash))
                throw new ArgumentException($"image_id {imageId} was already written with a different picture; give each picture its own image id.", nameof(imageId));
        }
        else
        {
            using var png = new FileStream(Path.Combine(Directory, image), FileMode.CreateNew, FileAccess.Write);
            png.Write(record.Png.Span);
            imageHashes.Add(imageId, hash);
        }

        var answers = sample.AllAnswers is { Count: > 0 } given ? given : Enumerable.Repeat(sample.Answer, HumanAnswers).ToArray();
        WriteQuestion(imageId, questionId, sample.Question);
        WriteAnnotation(imageId, questionId, questionType, answerType, sample.Answer, answers);
        var written = sample with
        {
            Id = questionId.ToString(CultureInfo.InvariantCulture),
            Image = image,
            Split = Subtype,
            AllAnswers = answers,
        };
        provenance.Write(written, record.Provenance);

        tally.Add(sample);
    }

    /// <summary>Finishes the questions, annotations and provenance files, then writes manifest.json.</summary>
    public DatasetManifest Complete()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (completed) throw new InvalidOperationException("Complete was already called.");
        completed = true;
        foreach (var (writer, stream) in new[] { (questions, questionsStream), (annotations, annotationsStream) })
        {
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.Flush();
            stream.WriteByte((byte)'\n');
        }

        CloseStreams();
        var manifest = tally.Manifest(Directory, Name);
        manifest.Write(Directory);
        return manifest;
    }

    /// <summary>Closes the files; without <see cref="Complete"/> the folder stays incomplete (no manifest.json).</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        CloseStreams();
    }

    /// <summary>Split names become file and folder names, so they are limited to letters, digits, '_' and '-'.</summary>
    internal static void ValidateSplitName(string split, string what)
    {
        if (string.IsNullOrEmpty(split) || !SafeSplit().IsMatch(split))
            throw new ArgumentException($"The {what} \"{split}\" cannot name files; use letters, digits, '_' and '-' (for example \"val2015\").", what);
    }

    private FileStream Open(string name, List<IDisposable> opened)
    {
        var stream = new FileStream(Path.Combine(Directory, name), FileMode.CreateNew, FileAccess.Write);
        opened.Add(stream);
        return stream;
    }

    private void WriteQuestion(long imageId, long questionId, string question)
    {
        questions.WriteStartObject();
        questions.WriteNumber("image_id", imageId);
        questions.WriteString("question", question);
        questions.WriteNumber("question_id", questionId);
        questions.WriteEndObject();
        questions.Flush();
    }

    private void WriteAnnotation(long imageId, long questionId, string questionType, string answerType, string answer, IReadOnlyList<string> answers)
    {
        annotations.WriteStartObject();
        annotations.WriteNumber("question_id", questionId);
        annotations.WriteNumber("image_id", imageId);
        annotations.WriteString("question_type", questionType);
        annotations.WriteString("answer_type", answerType);
        annotations.WriteString("multiple_choice_answer", answer);
        annotations.WriteStartArray("answers");
        for (int i = 0; i < answers.Count; i++)
        {
            annotations.WriteStartObject();
            annotations.WriteString("answer", answers[i]);
            annotations.WriteString("answer_confidence", "yes");
            annotations.WriteNumber("answer_id", i + 1);
            annotations.WriteEndObject();
        }

        annotations.WriteEndArray();
        annotations.WriteEndObject();
        annotations.Flush();
    }

    private void WriteInfo(Utf8JsonWriter writer)
    {
        // No date: the files must not change between two runs with the same seed.
        writer.WriteStartObject("info");
        writer.WriteString("description", $"{Name}: questions in the VQA v2 abstract-scenes layout, written by FailureSynth");
        writer.WriteString("version", "2.0");
        writer.WriteString("contributor", "FailureSynth");
        writer.WriteEndObject();
    }

    private static void WriteLicense(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("license");
        writer.WriteString("name", "generated by FailureSynth");
        writer.WriteString("url", "");
        writer.WriteEndObject();
    }

    private void CloseStreams()
    {
        questions.Dispose();
        annotations.Dispose();
        questionsStream.Dispose();
        annotationsStream.Dispose();
        provenance.Dispose();
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex SafeSplit();
}
