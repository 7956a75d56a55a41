using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FailureSynth.Datasets;

/// <summary>One file of a dataset folder as the manifest records it: path with '/' separators, SHA-256, size.</summary>
public sealed record ManifestFile(string Path, string Sha256, long Bytes);

/// <summary>
/// The content-addressed description of a FailureSynth dataset folder (<c>manifest.json</c>): the SHA-256 of every
/// file, sample counts per family and skill, and one hash over them all. Identical inputs give a byte-identical file.
/// </summary>
/// <param name="FamilyCounts">Samples per family, sorted by name (ordinal).</param>
/// <param name="SkillCounts">Samples per skill key, sorted by name (ordinal); a sample counts once per distinct skill.</param>
/// <param name="DatasetSha256">SHA-256 over the UTF-8 lines <c>"{path}\t{sha256}\n"</c> of the files, in path order.</param>
public sealed record DatasetManifest(
    string Name,
    int SampleCount,
    IReadOnlyList<ManifestFile> Files,
    IReadOnlyList<KeyValuePair<string, int>> FamilyCounts,
    IReadOnlyList<KeyValuePair<string, int>> SkillCounts,
    string DatasetSha256)
{
    public const string FormatName = "failuresynth-dataset";
    public const int FormatVersion = 1;

    /// <summary>Hashes every file under <paramref name="directory"/> (except manifest.json) and assembles the manifest.</summary>
    public static DatasetManifest Build(
        string directory, string name, int sampleCount,
        IEnumerable<KeyValuePair<string, int>> familyCounts, IEnumerable<KeyValuePair<string, int>> skillCounts)
    {
        var files = ScanFiles(directory);
        return new DatasetManifest(name, sampleCount, files, Sorted(familyCounts), Sorted(skillCounts), ComputeDatasetSha256(files));
    }

    /// <summary>Every file of the folder except the manifest itself, hashed, in ordinal path order.</summary>
    public static IReadOnlyList<ManifestFile> ScanFiles(string directory)
    {
        var root = System.IO.Path.GetFullPath(directory);
        var files = new List<ManifestFile>();
        foreach (var full in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var relative = System.IO.Path.GetRelativePath(root, full).Replace('\\', '/');
            if (string.Equals(relative, DatasetLayout.ManifestFile, StringComparison.Ordinal)) continue;
            using var stream = File.OpenRead(full);
            var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
            files.Add(new ManifestFile(relative, hash, stream.Length));
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    public static string ComputeDatasetSha256(IEnumerable<ManifestFile> files)
    {
        // Line by line: a dataset of half a million files would otherwise hold all its lines twice (text and UTF-8).
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files) hash.AppendData(Encoding.UTF8.GetBytes($"{file.Path}\t{file.Sha256}\n"));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The manifest as written to disk: indented UTF-8 JSON without BOM, "\n" line breaks, trailing newline.</summary>
    public byte[] ToJsonBytes()
    {
        using var buffer = new MemoryStream();
        WriteJson(buffer);
        return buffer.ToArray();
    }

    /// <summary>Writes <see cref="ToJsonBytes"/>'s bytes to <paramref name="stream"/> as they are made.</summary>
    public void WriteJson(Stream stream)
    {
        using (var writer = new Utf8JsonWriter(stream, JsonFiles.Indented))
        {
            writer.WriteStartObject();
            writer.WriteString("format", FormatName);
            writer.WriteNumber("version", FormatVersion);
            writer.WriteString("name", Name);
            writer.WriteNumber("sample_count", SampleCount);
            writer.WriteStartArray("files");
            foreach (var file in Files)
            {
                writer.WriteStartObject();
                writer.WriteString("path", file.Path);
                writer.WriteString("sha256", file.Sha256);
                writer.WriteNumber("bytes", file.Bytes);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartObject("counts");
            WriteCounts(writer, "family", FamilyCounts);
            WriteCounts(writer, "skill", SkillCounts);
            writer.WriteEndObject();
            writer.WriteString("dataset_sha256", DatasetSha256);
            writer.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
    }

    public void Write(string directory)
    {
        using var stream = new FileStream(System.IO.Path.Combine(directory, DatasetLayout.ManifestFile), FileMode.Create, FileAccess.Write);
        WriteJson(stream);
    }

    /// <summary>Reads and validates <c>manifest.json</c> of a dataset folder.</summary>
    public static DatasetManifest Read(string directory)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetFullPath(directory), DatasetLayout.ManifestFile);
        if (!File.Exists(path))
            throw new DatasetFormatException(path, null, null,
                "not found; the writer creates it last, so the dataset was not completed: regenerate it");
        using var document = JsonFiles.Parse(path);
        var root = document.RootElement;
        var scope = new RecordScope(path, "manifest");
        scope.RequireObject(root, null);
        var format = scope.RequireString(root, "format");
        if (!string.Equals(format, FormatName, StringComparison.Ordinal))
            throw scope.Fail("format", $"{JsonFiles.Quote(format)} is not \"{FormatName}\"; this is not a FailureSynth dataset manifest");
        var version = scope.RequireInteger(root, "version");
        if (version != FormatVersion)
            throw scope.Fail("version", $"version {version} is not supported (this build reads version {FormatVersion}); regenerate the dataset with this build");
        var name = scope.RequireString(root, "name");
        var sampleCount = scope.RequireInteger(root, "sample_count");
        if (sampleCount is < 0 or > int.MaxValue)
            throw scope.Fail("sample_count", $"{sampleCount} is not a valid count");

        var files = new List<ManifestFile>();
        foreach (var item in scope.RequireArray(root, "files").EnumerateArray())
        {
            var at = RecordScope.Indexed("files", files.Count);
            scope.RequireObject(item, at);
            var bytes = scope.RequireInteger(item, "bytes", at + ".bytes");
            if (bytes < 0) throw scope.Fail(at + ".bytes", $"{bytes} is not a file size");
            files.Add(new ManifestFile(
                scope.RequireString(item, "path", at + ".path"),
                scope.RequireString(item, "sha256", at + ".sha256"),
                bytes));
        }

        var counts = scope.Require(root, "counts");
        scope.RequireObject(counts, "counts");
        var families = ReadCounts(scope, counts, "family");
        var skills = ReadCounts(scope, counts, "skill");
        var datasetSha = scope.RequireString(root, "dataset_sha256");
        return new DatasetManifest(name, (int)sampleCount, files, families, skills, datasetSha);
    }

    /// <summary>Recomputes every hash of the folder and reports files that changed, went missing or appeared.</summary>
    public static ManifestVerification Verify(string directory)
    {
        var manifest = Read(directory);
        var actual = ScanFiles(directory).ToDictionary(f => f.Path, StringComparer.Ordinal);
        var issues = new List<ManifestIssue>();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            listed.Add(file.Path);
            if (!actual.TryGetValue(file.Path, out var found))
                issues.Add(new ManifestIssue(file.Path, ManifestIssueKind.Missing, "listed in the manifest but not in the folder"));
            else if (!string.Equals(found.Sha256, file.Sha256, StringComparison.OrdinalIgnoreCase) || found.Bytes != file.Bytes)
                issues.Add(new ManifestIssue(file.Path, ManifestIssueKind.Modified,
                    $"sha256 {found.Sha256} ({found.Bytes.ToString(CultureInfo.InvariantCulture)} bytes) differs from the manifest's {file.Sha256} ({file.Bytes.ToString(CultureInfo.InvariantCulture)} bytes)"));
        }

        foreach (var path in actual.Keys.Where(p => !listed.Contains(p)).Order(StringComparer.Ordinal))
            issues.Add(new ManifestIssue(path, ManifestIssueKind.Extra, "in the folder but not listed in the manifest"));

        var recomputed = ComputeDatasetSha256(manifest.Files);
        if (!string.Equals(recomputed, manifest.DatasetSha256, StringComparison.OrdinalIgnoreCase))
            issues.Add(new ManifestIssue(DatasetLayout.ManifestFile, ManifestIssueKind.DatasetHashMismatch,
                $"dataset_sha256 {manifest.DatasetSha256} does not match the listed files ({recomputed}); the manifest was edited"));
        return new ManifestVerification(manifest, issues);
    }

    private static void WriteCounts(Utf8JsonWriter writer, string name, IReadOnlyList<KeyValuePair<string, int>> counts)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in counts) writer.WriteNumber(key, value);
        writer.WriteEndObject();
    }

    private static List<KeyValuePair<string, int>> ReadCounts(RecordScope scope, JsonElement counts, string name)
    {
        var section = scope.Require(counts, name, "counts." + name);
        scope.RequireObject(section, "counts." + name);
        var list = new List<KeyValuePair<string, int>>();
        foreach (var property in section.EnumerateObject())
        {
            var value = scope.AsInteger(property.Value, $"counts.{name}.{property.Name}");
            if (value is < 0 or > int.MaxValue) throw scope.Fail($"counts.{name}.{property.Name}", $"{value} is not a valid count");
            list.Add(new(property.Name, (int)value));
        }

        return list;
    }

    private static List<KeyValuePair<string, int>> Sorted(IEnumerable<KeyValuePair<string, int>> counts) =>
        counts.OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
}

/// <summary>What kind of disagreement <see cref="DatasetManifest.Verify"/> found.</summary>
public enum ManifestIssueKind
{
    /// <summary>The file's content or size differs from the manifest.</summary>
    Modified,

    /// <summary>The manifest lists a file that is not in the folder.</summary>
    Missing,

    /// <summary>The folder holds a file the manifest does not list.</summary>
    Extra,

    /// <summary>The manifest's own dataset_sha256 does not match its file list.</summary>
    DatasetHashMismatch,
}

/// <summary>One disagreement between a dataset folder and its manifest.</summary>
public sealed record ManifestIssue(string Path, ManifestIssueKind Kind, string Detail)
{
    public override string ToString() => $"{Path}: {KindText}: {Detail}";

    private string KindText => Kind switch
    {
        ManifestIssueKind.Modified => "modified",
        ManifestIssueKind.Missing => "missing",
        ManifestIssueKind.Extra => "extra",
        _ => "manifest edited",
    };
}

/// <summary>Result of checking a dataset folder against its manifest; valid when no issue was found.</summary>
public sealed record ManifestVerification(DatasetManifest Manifest, IReadOnlyList<ManifestIssue> Issues)
{
    public bool IsValid => Issues.Count == 0;
}
