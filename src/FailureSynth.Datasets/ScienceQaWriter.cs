using System.Text.Json;

namespace FailureSynth.Datasets;

/// <summary>The ScienceQA fields of a problem that a <see cref="VqaSample"/> does not carry.</summary>
/// <param name="Subject">ScienceQA's subject (the family readers report by).</param>
/// <param name="Skill">ScienceQA's skill; readers take it as the sample's skill.</param>
/// <param name="Solution">The worked explanation of the answer.</param>
public sealed record ScienceQaProblemInfo(
    string Subject,
    string Topic,
    string Category,
    string Skill,
    string Task = "closed choice",
    string Grade = "",
    string Lecture = "",
    string Solution = "");

/// <summary>
/// Writes multiple-choice questions in the official ScienceQA layout:
/// <code>
/// DIR/problems.json                     {pid: {question, choices, answer, hint, image, task, grade, subject, topic, category, skill, lecture, solution, split}}
/// DIR/pid_splits.json                   {"train": [...], "val": [...], "test": [...]} (plus the split written, if it is another)
/// DIR/images/{split}/{pid}/image.png
/// DIR/provenance.jsonl                  one sample per line (id = pid) with its provenance
/// DIR/manifest.json                     SHA-256 of every file (written last)
/// </code>
/// The same entries in the same order give byte-identical files. Not thread-safe: add from one thread, in the final order.
/// </summary>
public sealed class ScienceQaWriter : IDisposable
{
    public const string ImageName = "image.png";

    private static readonly string[] OfficialSplits = ["train", "val", "test"];

    private readonly FileStream problemsStream;
    private readonly Utf8JsonWriter problems;
    private readonly ProvenanceFile provenance;
    private readonly List<string> pids = [];
    private readonly HashSet<string> known = new(StringComparer.Ordinal);
    private readonly SampleTally tally = new();
    private bool completed;
    private bool disposed;

    /// <param name="split">The split every problem belongs to ("train", "val", "test" or another name); it names the image folder.</param>
    public ScienceQaWriter(string directory, string split, string datasetName, DatasetWriterOptions? options = null)
    {
        VqaV2Writer.ValidateSplitName(split, "split");
        if (string.IsNullOrWhiteSpace(datasetName))
            throw new ArgumentException("The dataset name is empty; give the name the manifest records.", nameof(datasetName));
        Directory = Path.GetFullPath(directory);
        Split = split;
        Name = datasetName;
        DatasetWriter.PrepareFolder(Directory, options?.Overwrite ?? false);
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, ScienceQaReader.ImagesFolder, split));

        problemsStream = new FileStream(Path.Combine(Directory, ScienceQaReader.ProblemsFile), FileMode.CreateNew, FileAccess.Write);
        try
        {
            provenance = new ProvenanceFile(Path.Combine(Directory, DatasetLayout.ProvenanceFile));
        }
        catch
        {
            problemsStream.Dispose();
            throw;
        }

        problems = new Utf8JsonWriter(problemsStream, JsonFiles.Indented);
        problems.WriteStartObject();
    }

    /// <summary>Full path of the dataset folder.</summary>
    public string Directory { get; }

    /// <summary>The split every problem is written under.</summary>
    public string Split { get; }

    /// <summary>Name the manifest records.</summary>
    public string Name { get; }

    /// <summary>Problems added so far.</summary>
    public int Count => tally.Count;

    /// <summary>
    /// Writes one problem under <paramref name="pid"/>. The sample must be multiple choice: its answer the correct
    /// letter, or its answer text one of the choices. <see cref="VqaSample.Context"/> becomes the hint; an empty PNG
    /// makes a text-only problem (<c>"image": null</c>).
    /// </summary>
    public void Add(DatasetRecord record, string pid, ScienceQaProblemInfo info)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(info);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (completed) throw new InvalidOperationException("The dataset is already complete; start a new ScienceQaWriter to write another.");
        DatasetWriter.Validate(record);
        var sample = record.Sample;
        VqaV2Writer.ValidateSplitName(pid, "pid");
        if (!known.Add(pid))
            throw new ArgumentException($"pid \"{pid}\" was already added; every problem needs its own id.", nameof(pid));
        var choices = sample.Choices;
        if (choices is null || choices.Count is < 2 or > 26)
            throw new ArgumentException($"Sample \"{sample.Id}\" has {choices?.Count ?? 0} choices; a ScienceQA problem has 2 to 26 (generate it in choice form).", nameof(record));
        int answer = CorrectChoice(sample, choices);

        string? image = null;
        if (!record.Png.IsEmpty)
        {
            var folder = Path.Combine(Directory, ScienceQaReader.ImagesFolder, Split, pid);
            System.IO.Directory.CreateDirectory(folder);
            using var png = new FileStream(Path.Combine(folder, ImageName), FileMode.CreateNew, FileAccess.Write);
            png.Write(record.Png.Span);
            image = $"{ScienceQaReader.ImagesFolder}/{Split}/{pid}/{ImageName}";
        }

        WriteProblem(pid, sample, choices, answer, record.Png.IsEmpty ? null : ImageName, info);
        var written = sample with
        {
            Id = pid,
            Image = image,
            Answer = ((char)('A' + answer)).ToString(),
            AnswerText = choices[answer],
            Skills = sample.Skills ?? [info.Skill],
            Split = Split,
        };
        provenance.Write(written, record.Provenance);
        pids.Add(pid);

        tally.Add(written);
    }

    /// <summary>Finishes problems.json and provenance.jsonl, writes pid_splits.json, then manifest.json.</summary>
    public DatasetManifest Complete()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (completed) throw new InvalidOperationException("Complete was already called.");
        completed = true;
        problems.WriteEndObject();
        problems.Flush();
        problemsStream.WriteByte((byte)'\n');
        CloseStreams();
        WriteSplits();
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

    private static int CorrectChoice(VqaSample sample, IReadOnlyList<string> choices)
    {
        if (sample.Answer.Length == 1 && char.IsAsciiLetterUpper(sample.Answer[0]) && sample.Answer[0] - 'A' < choices.Count)
        {
            int index = sample.Answer[0] - 'A';
            if (sample.AnswerText is not null && !string.Equals(choices[index], sample.AnswerText, StringComparison.Ordinal))
                throw new ArgumentException($"Sample \"{sample.Id}\": answer {sample.Answer} is \"{choices[index]}\" but AnswerText says \"{sample.AnswerText}\"; make them agree.");
            return index;
        }

        for (int i = 0; i < choices.Count; i++)
        {
            if (string.Equals(choices[i], sample.AnswerText ?? sample.Answer, StringComparison.Ordinal)) return i;
        }

        throw new ArgumentException(
            $"Sample \"{sample.Id}\": the answer \"{sample.Answer}\" is neither a choice letter nor one of its choices; give the correct letter.");
    }

    private void WriteProblem(string pid, VqaSample sample, IReadOnlyList<string> choices, int answer, string? image, ScienceQaProblemInfo info)
    {
        problems.WriteStartObject(pid);
        problems.WriteString("question", sample.Question);
        problems.WriteStartArray("choices");
        foreach (var choice in choices) problems.WriteStringValue(choice);
        problems.WriteEndArray();
        problems.WriteNumber("answer", answer);
        problems.WriteString("hint", sample.Context ?? "");
        if (image is null) problems.WriteNull("image");
        else problems.WriteString("image", image);
        problems.WriteString("task", info.Task);
        problems.WriteString("grade", info.Grade);
        problems.WriteString("subject", info.Subject);
        problems.WriteString("topic", info.Topic);
        problems.WriteString("category", info.Category);
        problems.WriteString("skill", info.Skill);
        problems.WriteString("lecture", info.Lecture);
        problems.WriteString("solution", info.Solution);
        problems.WriteString("split", Split);
        problems.WriteEndObject();
        problems.Flush();
    }

    /// <summary>The official three lists (empty where this split is not theirs) and this split's list when it is another.</summary>
    private void WriteSplits()
    {
        using var stream = new FileStream(Path.Combine(Directory, ScienceQaReader.SplitsFile), FileMode.CreateNew, FileAccess.Write);
        using (var writer = new Utf8JsonWriter(stream, JsonFiles.Indented))
        {
            writer.WriteStartObject();
            foreach (var name in OfficialSplits.Contains(Split, StringComparer.Ordinal) ? OfficialSplits : [.. OfficialSplits, Split])
            {
                writer.WriteStartArray(name);
                if (string.Equals(name, Split, StringComparison.Ordinal))
                {
                    foreach (var pid in pids) writer.WriteStringValue(pid);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
    }

    private void CloseStreams()
    {
        problems.Dispose();
        problemsStream.Dispose();
        provenance.Dispose();
    }
}
