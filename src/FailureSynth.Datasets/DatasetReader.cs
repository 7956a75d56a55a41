using System.Globalization;

namespace FailureSynth.Datasets;

/// <summary>
/// Loads any supported dataset file or folder into <see cref="VqaSample"/>s, detecting the format when not told.
/// Loading is all or nothing: a malformed record fails the whole load with a <see cref="DatasetFormatException"/>.
/// </summary>
public static class DatasetReader
{
    /// <summary>
    /// Loads <paramref name="path"/>: a FailureSynth dataset folder, a ScienceQA folder or file, a VQA v2 folder or
    /// questions/annotations file (its partner is found beside it), a LLaVA JSON file or a JSONL file.
    /// </summary>
    public static LoadedDataset Load(string path, DatasetFormat? format = null, DatasetReadOptions? options = null)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full) && !Directory.Exists(full))
            throw new DatasetFormatException(full, null, null, "no such file or folder; check the path");
        var chosen = format ?? Detect(full);
        var isFolder = Directory.Exists(full);
        return chosen switch
        {
            DatasetFormat.FailureSynth => LoadFailureSynth(isFolder ? full : Path.GetDirectoryName(full)!, options),
            DatasetFormat.Llava => LoadLlava(isFolder ? Path.Combine(full, DatasetLayout.LlavaFile) : full, options),
            DatasetFormat.Jsonl => LoadJsonl(isFolder ? SingleFile(full, "*.jsonl", "JSONL") : full, options),
            DatasetFormat.ScienceQa => LoadScienceQa(
                isFolder ? Path.Combine(full, ScienceQaReader.ProblemsFile) : Path.Combine(Path.GetDirectoryName(full)!, ScienceQaReader.ProblemsFile),
                null, options),
            DatasetFormat.VqaV2 => LoadVqaV2Beside(full, isFolder, options),
            _ => throw new ArgumentOutOfRangeException(nameof(format), chosen, "unknown dataset format"),
        };
    }

    /// <summary>Works out the format of a file or folder from its file names and, for a bare .json file, its first character.</summary>
    public static DatasetFormat Detect(string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            if (File.Exists(Path.Combine(full, DatasetLayout.LlavaFile)))
            {
                return File.Exists(Path.Combine(full, DatasetLayout.ProvenanceFile)) || File.Exists(Path.Combine(full, DatasetLayout.ManifestFile))
                    ? DatasetFormat.FailureSynth
                    : DatasetFormat.Llava;
            }

            if (File.Exists(Path.Combine(full, ScienceQaReader.ProblemsFile))) return DatasetFormat.ScienceQa;
            if (Matching(full, "*questions*.json").Length > 0 || Matching(full, "*annotations*.json").Length > 0) return DatasetFormat.VqaV2;
            if (Matching(full, "*.jsonl").Length == 1) return DatasetFormat.Jsonl;
            throw new DatasetFormatException(full, null, null,
                $"cannot tell the dataset format of this folder: it has no {DatasetLayout.LlavaFile}, no {ScienceQaReader.ProblemsFile}, no VQA v2 *questions*.json/*annotations*.json and not exactly one .jsonl file; point at the dataset file itself or name the format");
        }

        var name = Path.GetFileName(full);
        if (name.Equals(ScienceQaReader.ProblemsFile, StringComparison.OrdinalIgnoreCase)
            || name.Equals(ScienceQaReader.SplitsFile, StringComparison.OrdinalIgnoreCase))
            return DatasetFormat.ScienceQa;
        if (name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase)) return DatasetFormat.Jsonl;
        if (name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            if (name.Contains("questions", StringComparison.OrdinalIgnoreCase) || name.Contains("annotations", StringComparison.OrdinalIgnoreCase))
                return DatasetFormat.VqaV2;
            if (FirstSignificantByte(full) == '[') return DatasetFormat.Llava;
        }

        throw new DatasetFormatException(full, null, null,
            "cannot tell the dataset format of this file: expected a LLaVA .json array, a .jsonl file, a VQA v2 *questions*.json/*annotations*.json or ScienceQA problems.json; name the format explicitly");
    }

    /// <summary>Loads a LLaVA instruction JSON file; relative image paths resolve against the file's folder.</summary>
    public static LoadedDataset LoadLlava(string path, DatasetReadOptions? options = null)
    {
        var full = Path.GetFullPath(path);
        var images = ImageResolver.For(Path.GetDirectoryName(full)!, options, requiredByDefault: true);
        var warnings = new List<string>();
        var samples = Utf8Guard(full, () => LlavaReader.Read(full, images, warnings));
        return new LoadedDataset(full, "llava", samples, warnings, images.Root);
    }

    /// <summary>Loads a JSONL file of <see cref="VqaSample"/>-shaped objects.</summary>
    public static LoadedDataset LoadJsonl(string path, DatasetReadOptions? options = null)
    {
        var full = Path.GetFullPath(path);
        var images = ImageResolver.For(Path.GetDirectoryName(full)!, options, requiredByDefault: true);
        var samples = Utf8Guard(full, () => JsonlReader.Read(full, images, "jsonl"));
        return new LoadedDataset(full, "jsonl", samples, [], images.Root);
    }

    /// <summary>Loads an official VQA v2 questions file joined with its annotations file.</summary>
    public static LoadedDataset LoadVqaV2(string questionsPath, string annotationsPath, DatasetReadOptions? options = null)
    {
        var questions = Path.GetFullPath(questionsPath);
        var annotations = Path.GetFullPath(annotationsPath);
        var images = ImageResolver.For(Path.GetDirectoryName(questions)!, options, requiredByDefault: false);
        var warnings = new List<string>();
        var samples = Utf8Guard(questions, () => VqaV2Reader.Read(questions, annotations, images, warnings));
        return new LoadedDataset(questions, "vqav2", samples, warnings, images.Root);
    }

    /// <summary>Loads ScienceQA <c>problems.json</c>; <paramref name="splitsPath"/> defaults to <c>pid_splits.json</c> beside it.</summary>
    public static LoadedDataset LoadScienceQa(string problemsPath, string? splitsPath = null, DatasetReadOptions? options = null)
    {
        var problems = Path.GetFullPath(problemsPath);
        var folder = Path.GetDirectoryName(problems)!;
        var splits = Path.GetFullPath(splitsPath ?? Path.Combine(folder, ScienceQaReader.SplitsFile));
        if (!File.Exists(problems))
            throw new DatasetFormatException(problems, null, null, "not found; a ScienceQA folder holds problems.json and pid_splits.json");
        if (!File.Exists(splits))
            throw new DatasetFormatException(splits, null, null,
                $"not found; ScienceQA needs pid_splits.json beside {Path.GetFileName(problems)} to check the splits, so copy it from the same release");
        var images = ImageResolver.For(folder, options, requiredByDefault: false);
        var samples = Utf8Guard(problems, () => ScienceQaReader.Read(problems, splits, images));
        return new LoadedDataset(folder, "scienceqa", samples, [], images.Root);
    }

    /// <summary>
    /// Loads a folder written by <see cref="DatasetWriter"/>. The samples come from provenance.jsonl (it keeps
    /// families, skills and steps), checked record by record against llava.json, which a trainer consumes.
    /// </summary>
    public static LoadedDataset LoadFailureSynth(string directory, DatasetReadOptions? options = null)
    {
        var folder = Path.GetFullPath(directory);
        var llavaPath = Path.Combine(folder, DatasetLayout.LlavaFile);
        if (!File.Exists(llavaPath))
            throw new DatasetFormatException(llavaPath, null, null, "not found; a FailureSynth dataset folder always has llava.json, so the folder is incomplete or not a dataset");
        var images = ImageResolver.For(folder, options, requiredByDefault: true);
        var warnings = new List<string>();
        var llava = Utf8Guard(llavaPath, () => LlavaReader.Read(llavaPath, images, warnings));

        var provenancePath = Path.Combine(folder, DatasetLayout.ProvenanceFile);
        if (!File.Exists(provenancePath))
        {
            warnings.Add($"{DatasetLayout.ProvenanceFile} is missing: samples carry no family, skills or steps");
            return new LoadedDataset(folder, "failuresynth", llava.Select(s => s with { Source = "failuresynth" }).ToList(), warnings, images.Root);
        }

        var lines = new List<long>();
        // llava.json already checked every image, and the cross-check below makes provenance agree with it.
        var samples = JsonlReader.Read(provenancePath, new ImageResolver(images.Root, required: false), "failuresynth", lines);
        if (samples.Count != llava.Count)
            throw new DatasetFormatException(provenancePath, null, null,
                $"{samples.Count} records but {DatasetLayout.LlavaFile} has {llava.Count}; the files disagree, so regenerate the dataset");
        for (var i = 0; i < samples.Count; i++)
        {
            var scope = new RecordScope(provenancePath, $"line {lines[i].ToString(CultureInfo.InvariantCulture)}", Id: samples[i].Id, Line: lines[i]);
            Agree(scope, "id", samples[i].Id, llava[i].Id, i);
            Agree(scope, "image", samples[i].Image, llava[i].Image, i);
            Agree(scope, "question", samples[i].Question, llava[i].Question, i);
            Agree(scope, "answer", samples[i].Answer, llava[i].Answer, i);
        }

        return new LoadedDataset(folder, "failuresynth", samples, warnings, images.Root);
    }

    /// <summary>
    /// JsonDocument decodes strings lazily, so invalid UTF-8 outside the fields that report it precisely (object keys,
    /// for instance) surfaces late; it still has to come out as a message about the file.
    /// </summary>
    private static T Utf8Guard<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException e) when (e.InnerException is System.Text.DecoderFallbackException)
        {
            throw new DatasetFormatException(path, null, null, "contains text that is not valid UTF-8; save the file as UTF-8", inner: e);
        }
    }

    private static void Agree(RecordScope scope, string field, string? provenance, string? llava, int index)
    {
        if (string.Equals(provenance, llava, StringComparison.Ordinal)) return;
        throw scope.Fail(field,
            $"{Shown(provenance)} differs from {DatasetLayout.LlavaFile} record {index} ({Shown(llava)}); the two files must describe the same samples in the same order, so regenerate the dataset");
    }

    private static string Shown(string? value) => value is null ? "none" : JsonFiles.Quote(value);

    private static LoadedDataset LoadVqaV2Beside(string path, bool isFolder, DatasetReadOptions? options)
    {
        if (isFolder)
        {
            var questions = SingleFile(path, "*questions*.json", "VQA v2 questions");
            var annotations = SingleFile(path, "*annotations*.json", "VQA v2 annotations");
            return LoadVqaV2(questions, annotations, options);
        }

        var name = Path.GetFileName(path);
        var folder = Path.GetDirectoryName(path)!;
        if (name.Contains("annotations", StringComparison.OrdinalIgnoreCase) && !name.Contains("questions", StringComparison.OrdinalIgnoreCase))
            return LoadVqaV2(Partner(folder, name, "*questions*.json", path, "questions"), path, options);
        return LoadVqaV2(path, Partner(folder, name, "*annotations*.json", path, "annotations"), options);
    }

    /// <summary>
    /// Finds the other file of a VQA v2 pair. The official names differ by more than one word
    /// (<c>v2_OpenEnded_mscoco_train2014_questions.json</c> and <c>v2_mscoco_train2014_annotations.json</c>),
    /// so both names are reduced to a pairing key; a lone candidate is taken as is.
    /// </summary>
    private static string Partner(string folder, string name, string pattern, string path, string wanted)
    {
        var key = PairKey(name);
        var candidates = Matching(folder, pattern).Where(c => !string.Equals(c, path, StringComparison.Ordinal)).ToArray();
        var exact = candidates.Where(c => string.Equals(PairKey(Path.GetFileName(c)), key, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (exact.Length == 1) return exact[0];
        if (candidates.Length == 1) return candidates[0];
        var found = candidates.Length == 0 ? "none is there" : "found " + string.Join(", ", candidates.Select(Path.GetFileName));
        throw new DatasetFormatException(path, null, null,
            $"cannot find its VQA v2 {wanted} file beside it ({found}); put the matching *_{wanted}.json next to it or give both files explicitly");
    }

    private static string PairKey(string fileName) => fileName
        .Replace("OpenEnded_", "", StringComparison.OrdinalIgnoreCase)
        .Replace("MultipleChoice_", "", StringComparison.OrdinalIgnoreCase)
        .Replace("questions", "annotations", StringComparison.OrdinalIgnoreCase);

    private static string SingleFile(string folder, string pattern, string what)
    {
        var found = Matching(folder, pattern);
        if (found.Length == 1) return found[0];
        var listed = found.Length == 0 ? "none" : string.Join(", ", found.Select(Path.GetFileName));
        throw new DatasetFormatException(folder, null, null,
            $"expected exactly one {what} file ({pattern}) in this folder, found {listed}; point at the file itself instead");
    }

    private static string[] Matching(string folder, string pattern)
    {
        var files = Directory.GetFiles(folder, pattern, SearchOption.TopDirectoryOnly);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    private static int FirstSignificantByte(string path)
    {
        using var stream = File.OpenRead(path);
        int b;
        while ((b = stream.ReadByte()) >= 0)
        {
            // Skip whitespace and a UTF-8 byte-order mark.
            if (b is ' ' or '\t' or '\r' or '\n' or 0xEF or 0xBB or 0xBF) continue;
            return b;
        }

        return -1;
    }
}
