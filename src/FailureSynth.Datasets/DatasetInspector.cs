using System.Globalization;

namespace FailureSynth.Datasets;

/// <summary>
/// Validates a dataset completely and summarises it for <c>failuresynth dataset inspect</c>. For FailureSynth
/// folders it also checks every hash of manifest.json, the manifest's counts, and that each image is a PNG.
/// </summary>
public static class DatasetInspector
{
    /// <summary>Loads, validates and summarises; throws <see cref="DatasetFormatException"/> on the first problem.</summary>
    public static DatasetSummary Inspect(string path, DatasetFormat? format = null, DatasetReadOptions? options = null, int top = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        var dataset = DatasetReader.Load(path, format, options);
        string? datasetSha = null;
        if (dataset.Format == "failuresynth")
        {
            try
            {
                datasetSha = VerifyManifest(dataset);
                VerifyPngs(dataset);
            }
            catch (DatasetFormatException e)
            {
                throw e.WithFormat("FailureSynth dataset");
            }
        }

        return Summarise(dataset, top, datasetSha);
    }

    /// <summary>Summarises an already loaded dataset without further checks.</summary>
    public static DatasetSummary Summarise(LoadedDataset dataset, int top = 10, string? datasetSha256 = null)
    {
        var samples = dataset.Samples;
        var skills = Count(samples.SelectMany(s => (s.Skills ?? []).Distinct(StringComparer.Ordinal)));
        var answers = Count(samples.Select(s => s.Answer));
        var words = samples.Select(s => s.Question.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length).Order().ToArray();
        var lengths = words.Length == 0
            ? new LengthStats(0, 0, 0, 0)
            : new LengthStats(words[0], words.Average(), words[(words.Length - 1) / 2], words[^1]);

        var images = samples.Where(s => s.Image is not null).Select(s => s.Image!).Distinct(StringComparer.Ordinal).ToList();
        var root = dataset.ImageRoot;
        var missing = root is null ? 0 : images.Count(i => !File.Exists(Path.Combine(root, i)));

        return new DatasetSummary(
            dataset.Path, dataset.Format, samples.Count,
            Count(samples.Select(s => s.Split ?? "(none)")),
            Count(samples.Select(s => s.Family ?? "(none)")),
            skills.Take(top).ToList(), skills.Count,
            answers.Take(top).ToList(), answers.Count,
            lengths,
            samples.Count == 0 ? 0 : (double)samples.Count(s => s.Choices is not null) / samples.Count,
            images.Count, missing, root, datasetSha256, dataset.Warnings);
    }

    private static List<CountEntry> Count(IEnumerable<string> names) =>
        names.GroupBy(n => n, StringComparer.Ordinal)
            .Select(g => new CountEntry(g.Key, g.Count()))
            .OrderByDescending(e => e.Count)
            .ThenBy(e => e.Name, StringComparer.Ordinal)
            .ToList();

    private static string VerifyManifest(LoadedDataset dataset)
    {
        var verification = DatasetManifest.Verify(dataset.Path);
        var manifestPath = Path.Combine(dataset.Path, DatasetLayout.ManifestFile);
        if (!verification.IsValid)
        {
            var first = verification.Issues[0];
            var more = verification.Issues.Count == 1
                ? ""
                : $" ({verification.Issues.Count - 1} more: {string.Join(", ", verification.Issues.Skip(1).Take(5).Select(i => i.Path))})";
            var file = first.Kind == ManifestIssueKind.DatasetHashMismatch ? manifestPath : Path.Combine(dataset.Path, first.Path);
            var field = first.Kind == ManifestIssueKind.DatasetHashMismatch ? "dataset_sha256" : null;
            var record = first.Kind == ManifestIssueKind.DatasetHashMismatch ? null : $"manifest entry {JsonFiles.Quote(first.Path)}";
            throw new DatasetFormatException(file, record, field,
                $"{first.Detail}{more}; the folder no longer matches {DatasetLayout.ManifestFile}: restore the original files or regenerate the dataset");
        }

        var manifest = verification.Manifest;
        if (manifest.SampleCount != dataset.Samples.Count)
            throw new DatasetFormatException(manifestPath, null, "sample_count",
                $"{manifest.SampleCount} but the dataset holds {dataset.Samples.Count} samples; regenerate the dataset");
        CheckCounts(manifestPath, "counts.family", manifest.FamilyCounts, dataset.Samples.Where(s => s.Family is not null).Select(s => s.Family!));
        CheckCounts(manifestPath, "counts.skill", manifest.SkillCounts, dataset.Samples.SelectMany(s => (s.Skills ?? []).Distinct(StringComparer.Ordinal)));
        return manifest.DatasetSha256;
    }

    private static void CheckCounts(string manifestPath, string field, IReadOnlyList<KeyValuePair<string, int>> stated, IEnumerable<string> names)
    {
        var actual = names.GroupBy(n => n, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new KeyValuePair<string, int>(g.Key, g.Count())).ToList();
        var sorted = stated.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        if (actual.SequenceEqual(sorted)) return;
        var difference = actual.Concat(sorted).Select(p => p.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .First(k => actual.FirstOrDefault(p => p.Key == k).Value != sorted.FirstOrDefault(p => p.Key == k).Value);
        var said = sorted.FirstOrDefault(p => p.Key == difference).Value;
        var found = actual.FirstOrDefault(p => p.Key == difference).Value;
        throw new DatasetFormatException(manifestPath, null, field + "." + difference,
            $"{said.ToString(CultureInfo.InvariantCulture)} but the samples have {found.ToString(CultureInfo.InvariantCulture)}; the manifest was edited, so regenerate the dataset");
    }

    private static void VerifyPngs(LoadedDataset dataset)
    {
        Span<byte> head = stackalloc byte[DatasetLayout.PngSignature.Length];
        for (var i = 0; i < dataset.Samples.Count; i++)
        {
            var sample = dataset.Samples[i];
            if (sample.Image is null) continue;
            var full = Path.Combine(dataset.ImageRoot ?? dataset.Path, sample.Image);
            using var stream = File.OpenRead(full);
            var read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (read < head.Length || !head.SequenceEqual(DatasetLayout.PngSignature))
                throw new DatasetFormatException(full, $"sample {i.ToString(CultureInfo.InvariantCulture)} (id {JsonFiles.Quote(sample.Id)})", "image",
                    "is not a PNG file (no PNG signature); FailureSynth datasets store PNG images, so regenerate the image or the dataset",
                    i, sample.Id);
        }
    }
}
