using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FailureSynth.Datasets;

/// <summary>One sample to write: the sample, its PNG bytes (empty for a text-only question) and its provenance.</summary>
/// <param name="Provenance">
/// Free-form record of how the sample came to be (scene spec, program, seed, and later the failure, teacher and
/// filter fields); written under <c>"provenance"</c> in provenance.jsonl, in the caller's property order.
/// </param>
public sealed record DatasetRecord(VqaSample Sample, ReadOnlyMemory<byte> Png, JsonObject? Provenance = null);

/// <summary>Options of <see cref="DatasetWriter"/>.</summary>
/// <param name="Overwrite">Empty a non-empty folder that is not a FailureSynth dataset instead of refusing it.</param>
public sealed record DatasetWriterOptions(bool Overwrite = false);

/// <summary>
/// Writes a FailureSynth dataset folder one sample at a time:
/// <code>
/// DIR/images/{id}.png     PNG bytes supplied by the caller
/// DIR/llava.json          LLaVA instruction JSON ("image" for LLaVA, "images" list for LLaMA-Factory)
/// DIR/provenance.jsonl    one VqaSample-shaped object per line plus "provenance"
/// DIR/dataset_info.json   LLaMA-Factory sharegpt entry naming llava.json
/// DIR/manifest.json       SHA-256 of every file, counts per family and skill (written last: its presence marks completion)
/// </code>
/// Samples stream to disk as they are added, so no PNG stays in memory. The same records in the same order give
/// byte-identical files. Not thread-safe: add from one thread, in the final order.
/// </summary>
public sealed partial class DatasetWriter : IDisposable
{
    private readonly FileStream llavaStream;
    private readonly Utf8JsonWriter llava;
    private readonly ProvenanceFile provenance;
    // The ids added so far, as 128 bits of the SHA-256 of their upper-case form (ids are compared ignoring case): about
    // 40 bytes a sample instead of the strings' 150, for datasets of half a million samples. Two different ids share a
    // key with a probability of about n^2 / 2^129.
    private readonly HashSet<UInt128> ids = [];
    private readonly SampleTally tally = new();
    private bool hasImages;
    private bool completed;
    private bool disposed;

    public DatasetWriter(string directory, string datasetName, DatasetWriterOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(datasetName))
            throw new ArgumentException("The dataset name is empty; give the name LLaMA-Factory should register it under.", nameof(datasetName));
        Directory = Path.GetFullPath(directory);
        Name = datasetName;
        PrepareFolder(Directory, options?.Overwrite ?? false);
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, DatasetLayout.ImagesFolder));

        llavaStream = new FileStream(Path.Combine(Directory, DatasetLayout.LlavaFile), FileMode.CreateNew, FileAccess.Write);
        try
        {
            provenance = new ProvenanceFile(Path.Combine(Directory, DatasetLayout.ProvenanceFile));
        }
        catch
        {
            llavaStream.Dispose();
            throw;
        }

        llava = new Utf8JsonWriter(llavaStream, JsonFiles.Indented);
        llava.WriteStartArray();
    }

    /// <summary>Full path of the dataset folder.</summary>
    public string Directory { get; }

    /// <summary>Name under which dataset_info.json registers the dataset.</summary>
    public string Name { get; }

    /// <summary>Samples added so far.</summary>
    public int Count => tally.Count;

    /// <summary>
    /// Writes one sample. The image goes to <c>images/{id}.png</c> whatever <see cref="VqaSample.Image"/> says;
    /// an empty <see cref="DatasetRecord.Png"/> makes a text-only sample, which must then have no image.
    /// </summary>
    public void Add(DatasetRecord record)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (completed) throw new InvalidOperationException("The dataset is already complete; start a new DatasetWriter to write another.");
        var sample = record.Sample;
        Validate(record);
        if (!ids.Add(IdKey(sample.Id)))
            throw new ArgumentException($"Sample id \"{sample.Id}\" was already added (ids are compared ignoring case, because they name image files); give every sample a unique id.", nameof(record));

        string? image = null;
        if (!record.Png.IsEmpty)
        {
            image = DatasetLayout.ImagePath(sample.Id);
            using var png = new FileStream(Path.Combine(Directory, DatasetLayout.ImagesFolder, sample.Id + ".png"), FileMode.CreateNew, FileAccess.Write);
            png.Write(record.Png.Span);
            hasImages = true;
        }

        var written = sample with { Image = image };
        WriteLlava(written);
        provenance.Write(written, record.Provenance);

        tally.Add(sample);
    }

    private static UInt128 IdKey(string id)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id.ToUpperInvariant()), hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    /// <summary>Finishes llava.json and provenance.jsonl, then writes dataset_info.json and, last, manifest.json.</summary>
    public DatasetManifest Complete()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (completed) throw new InvalidOperationException("Complete was already called.");
        completed = true;
        llava.WriteEndArray();
        llava.Flush();
        llavaStream.WriteByte((byte)'\n');
        CloseStreams();
        WriteDatasetInfo();
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

    private void CloseStreams()
    {
        llava.Dispose();
        llavaStream.Dispose();
        provenance.Dispose();
    }

    private void WriteLlava(VqaSample sample)
    {
        llava.WriteStartObject();
        llava.WriteString("id", sample.Id);
        if (sample.Image is not null) llava.WriteString("image", sample.Image);
        // LLaMA-Factory's multimodal sharegpt layout reads a list column, LLaVA reads the string: write both.
        llava.WriteStartArray("images");
        if (sample.Image is not null) llava.WriteStringValue(sample.Image);
        llava.WriteEndArray();
        llava.WriteStartArray("conversations");
        llava.WriteStartObject();
        llava.WriteString("from", "human");
        llava.WriteString("value", sample.Image is null ? sample.Question : LlavaReader.ImageToken + "\n" + sample.Question);
        llava.WriteEndObject();
        llava.WriteStartObject();
        llava.WriteString("from", "gpt");
        llava.WriteString("value", sample.Answer);
        llava.WriteEndObject();
        llava.WriteEndArray();
        llava.WriteEndObject();
        llava.Flush();
    }

    private void WriteDatasetInfo()
    {
        using var stream = new FileStream(Path.Combine(Directory, DatasetLayout.DatasetInfoFile), FileMode.Create, FileAccess.Write);
        using (var writer = new Utf8JsonWriter(stream, JsonFiles.Indented))
        {
            writer.WriteStartObject();
            writer.WriteStartObject(Name);
            writer.WriteString("file_name", DatasetLayout.LlavaFile);
            writer.WriteString("formatting", "sharegpt");
            writer.WriteStartObject("columns");
            writer.WriteString("messages", "conversations");
            if (hasImages) writer.WriteString("images", "images");
            writer.WriteEndObject();
            writer.WriteStartObject("tags");
            writer.WriteString("role_tag", "from");
            writer.WriteString("content_tag", "value");
            writer.WriteString("user_tag", "human");
            writer.WriteString("assistant_tag", "gpt");
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
    }

    /// <summary>Checks one record before anything is written; shared with the writers of the official layouts.</summary>
    internal static void Validate(DatasetRecord record)
    {
        var sample = record.Sample;
        if (string.IsNullOrEmpty(sample.Id) || !SafeId().IsMatch(sample.Id))
            throw new ArgumentException($"Sample id \"{sample.Id}\" cannot name an image file; use letters, digits, '.', '_' and '-', starting with a letter or digit.", nameof(record));
        Require(sample.Id, "Question", sample.Question);
        Require(sample.Id, "Answer", sample.Answer);
        if (sample.Question.Contains(LlavaReader.ImageToken, StringComparison.Ordinal))
            throw new ArgumentException($"Sample \"{sample.Id}\": the question contains \"{LlavaReader.ImageToken}\"; leave it out, the writer adds it.", nameof(record));
        if (sample.AnswerText is not null && sample.Choices is not null && !sample.Choices.Contains(sample.AnswerText, StringComparer.Ordinal))
            throw new ArgumentException($"Sample \"{sample.Id}\": AnswerText \"{sample.AnswerText}\" is not one of its choices.", nameof(record));
        if (sample.Skills?.Any(string.IsNullOrWhiteSpace) == true)
            throw new ArgumentException($"Sample \"{sample.Id}\": a skill key is empty.", nameof(record));
        if (record.Png.IsEmpty)
        {
            if (sample.Image is not null)
                throw new ArgumentException($"Sample \"{sample.Id}\" names image \"{sample.Image}\" but no PNG bytes were given; pass the PNG, or set Image to null for a text-only question.", nameof(record));
        }
        else if (!record.Png.Span.StartsWith(DatasetLayout.PngSignature))
        {
            throw new ArgumentException($"Sample \"{sample.Id}\": the image bytes are not a PNG (no PNG signature); encode the image as PNG.", nameof(record));
        }
    }

    private static void Require(string id, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new ArgumentException($"Sample \"{id}\": {field} is empty; every sample needs a question and an answer.");
    }

    /// <summary>
    /// Leaves <paramref name="folder"/> empty and ready, or refuses. An existing FailureSynth dataset is replaced
    /// (only the files its manifest lists are deleted); any other non-empty folder is emptied only with overwrite.
    /// </summary>
    internal static void PrepareFolder(string folder, bool overwrite)
    {
        if (!System.IO.Directory.Exists(folder) || !System.IO.Directory.EnumerateFileSystemEntries(folder).Any())
        {
            System.IO.Directory.CreateDirectory(folder);
            return;
        }

        if (overwrite)
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(folder)) File.Delete(file);
            foreach (var sub in System.IO.Directory.EnumerateDirectories(folder)) System.IO.Directory.Delete(sub, recursive: true);
            return;
        }

        DatasetManifest manifest;
        try
        {
            manifest = DatasetManifest.Read(folder);
        }
        catch (DatasetFormatException e)
        {
            throw new IOException(
                $"{folder} is not empty and is not a complete FailureSynth dataset ({e.Message}); choose an empty folder, or overwrite it explicitly.", e);
        }

        var listed = new HashSet<string>(manifest.Files.Select(f => f.Path), StringComparer.Ordinal) { DatasetLayout.ManifestFile };
        var stray = System.IO.Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Where(f => !listed.Contains(f))
            .Order(StringComparer.Ordinal)
            .FirstOrDefault();
        if (stray is not null)
            throw new IOException(
                $"{folder} holds a dataset plus a file its manifest does not list ({stray}); move that file away, or overwrite the folder explicitly.");

        foreach (var relative in listed)
        {
            var full = Path.Combine(folder, relative);
            if (File.Exists(full)) File.Delete(full);
        }

        foreach (var sub in System.IO.Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
        {
            if (!System.IO.Directory.EnumerateFileSystemEntries(sub).Any()) System.IO.Directory.Delete(sub);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex SafeId();
}
