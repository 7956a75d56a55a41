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
    /// questions/annotations file (its partner is found beside it), a LLaVA JSON file, a JSONL file, or LLaMA-Factory
    /// data (a dataset_info.json, a folder holding one, or an alpaca/sharegpt .json or .jsonl file).
    /// </summary>
    public static LoadedDataset Load(string path, DatasetFormat? format = null, DatasetReadOptions? options = null)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full) && !Directory.Exists(full))
            throw new DatasetFormatException(full, null, null, "no such file or folder; check the path");
        var chosen = format ?? Detect(full);
        var isFolder = Directory.Exists(full);
        try
        {
            return LoadAs(chosen, full, isFolder, options);
        }
        catch (DatasetFormatException e)
        {
            // Finding a format's files (a VQA v2 partner, the one .jsonl of a folder) fails before its reader runs.
            throw e.WithFormat(chosen switch
            {
                DatasetFormat.FailureSynth => FailureSynthName,
                DatasetFormat.Llava => LlavaName,
                DatasetFormat.Jsonl => JsonlName,
                DatasetFormat.ScienceQa => ScienceQaName,
                DatasetFormat.VqaV2 => VqaV2Name,
                _ => "LLaMA-Factory",
            });
        }
    }

    private static LoadedDataset LoadAs(DatasetFormat chosen, string full, bool isFolder, DatasetReadOptions? options)
    {
        return chosen switch
        {
            DatasetFormat.FailureSynth => LoadFailureSynth(isFolder ? full : Path.GetDirectoryName(full)!, options),
            DatasetFormat.Llava => LoadLlava(isFolder ? Path.Combine(full, DatasetLayout.LlavaFile) : full, options),
            DatasetFormat.Jsonl => LoadJsonl(isFolder ? SingleFile(full, "*.jsonl", "JSONL") : full, options),
            DatasetFormat.ScienceQa => LoadScienceQa(
                isFolder ? Path.Combine(full, ScienceQaReader.ProblemsFile) : Path.Combine(Path.GetDirectoryName(full)!, ScienceQaReader.ProblemsFile),
                null, options),
            DatasetFormat.VqaV2 => LoadVqaV2Beside(full, isFolder, options),
            DatasetFormat.LlamaFactory => isFolder || Path.GetFileName(full).Equals(DatasetLayout.DatasetInfoFile, StringComparison.OrdinalIgnoreCase)
                ? LoadLlamaFactoryInfo(isFolder ? Path.Combine(full, DatasetLayout.DatasetInfoFile) : full, options)
                : LoadLlamaFactoryFile(full, options),
            _ => throw new ArgumentOutOfRangeException(nameof(chosen), chosen, "unknown dataset format"),
        };
    }

    /// <summary>Works out the format of a file or folder from its file names and, for a .json or .jsonl file, the keys of its first record.</summary>
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
            if (File.Exists(Path.Combine(full, DatasetLayout.DatasetInfoFile))) return DatasetFormat.LlamaFactory;
            if (Matching(full, "*questions*.json").Length > 0 || Matching(full, "*annotations*.json").Length > 0) return DatasetFormat.VqaV2;
            if (Matching(full, "*.jsonl").Length == 1) return DatasetFormat.Jsonl;
            throw new DatasetFormatException(full, null, null,
                $"cannot tell the dataset format of this folder: it has no {DatasetLayout.LlavaFile}, no {ScienceQaReader.ProblemsFile}, no {DatasetLayout.DatasetInfoFile}, no VQA v2 *questions*.json/*annotations*.json and not exactly one .jsonl file; point at the dataset file itself or name the format");
        }

        var name = Path.GetFileName(full);
        var head = FirstBytes(full);
        // An empty file is called empty, not a file of unknown format.
        if (head.Whole && JsonFiles.IsBlank(JsonFiles.WithoutBom(head.Bytes).Span))
            throw JsonFiles.Empty(full, head.Bytes.Length);
        if (name.Equals(DatasetLayout.DatasetInfoFile, StringComparison.OrdinalIgnoreCase)) return DatasetFormat.LlamaFactory;
        if (name.Equals(ScienceQaReader.ProblemsFile, StringComparison.OrdinalIgnoreCase)
            || name.Equals(ScienceQaReader.SplitsFile, StringComparison.OrdinalIgnoreCase))
            return DatasetFormat.ScienceQa;
        if (name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            var keys = FirstRecordKeys(head.Bytes, jsonl: true);
            return keys.Contains("question") && keys.Contains("answer") ? DatasetFormat.Jsonl
                : IsLlamaFactoryRecord(keys) ? DatasetFormat.LlamaFactory
                : DatasetFormat.Jsonl;
        }

        if (name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            if (name.Contains("questions", StringComparison.OrdinalIgnoreCase) || name.Contains("annotations", StringComparison.OrdinalIgnoreCase))
                return DatasetFormat.VqaV2;
            if (FirstSignificantByte(head.Bytes) == '[')
            {
                var keys = FirstRecordKeys(head.Bytes, jsonl: false);
                return IsLlamaFactoryRecord(keys) && !keys.Contains("conversations") ? DatasetFormat.LlamaFactory : DatasetFormat.Llava;
            }
        }

        throw new DatasetFormatException(full, null, null,
            "cannot tell the dataset format of this file: expected a LLaVA .json array, a .jsonl file, a VQA v2 *questions*.json/*annotations*.json, ScienceQA problems.json, or LLaMA-Factory dataset_info.json or data file; name the format explicitly");
    }

    /// <summary>Loads a LLaVA instruction JSON file; relative image paths resolve against the file's folder.</summary>
    public static LoadedDataset LoadLlava(string path, DatasetReadOptions? options = null)
    {
        var full = Path.GetFullPath(path);
        var warnings = new List<string>();
        return Read(LlavaName, full, () =>
        {
            var images = ImageResolver.For(Path.GetDirectoryName(full)!, options, requiredByDefault: true);
            return new LoadedDataset(full, "llava", LlavaReader.Read(full, images, warnings), warnings, images.Root);
        });
    }

    /// <summary>Loads a JSONL file of <see cref="VqaSample"/>-shaped objects.</summary>
    public static LoadedDataset LoadJsonl(string path, DatasetReadOptions? options = null)
    {
        var full = Path.GetFullPath(path);
        return Read(JsonlName, full, () =>
        {
            var images = ImageResolver.For(Path.GetDirectoryName(full)!, options, requiredByDefault: true);
            var samples = JsonlReader.Read(full, images, "jsonl");
            if (samples.Count == 0)
                throw new DatasetFormatException(full, null, null, "empty: no records, only blank lines; a JSONL dataset holds one sample object per line");
            return new LoadedDataset(full, "jsonl", samples, [], images.Root);
        });
    }

    /// <summary>Loads an official VQA v2 questions file joined with its annotations file.</summary>
    public static LoadedDataset LoadVqaV2(string questionsPath, string annotationsPath, DatasetReadOptions? options = null)
    {
        var questions = Path.GetFullPath(questionsPath);
        var annotations = Path.GetFullPath(annotationsPath);
        var warnings = new List<string>();
        return Read(VqaV2Name, questions, () =>
        {
            var images = ImageResolver.For(Path.GetDirectoryName(questions)!, options, requiredByDefault: false);
            return new LoadedDataset(questions, "vqav2", VqaV2Reader.Read(questions, annotations, images, warnings), warnings, images.Root);
        });
    }

    /// <summary>Loads ScienceQA <c>problems.json</c>; <paramref name="splitsPath"/> defaults to <c>pid_splits.json</c> beside it.</summary>
    public static LoadedDataset LoadScienceQa(string problemsPath, string? splitsPath = null, DatasetReadOptions? options = null)
    {
        var problems = Path.GetFullPath(problemsPath);
        var folder = Path.GetDirectoryName(problems)!;
        var splits = Path.GetFullPath(splitsPath ?? Path.Combine(folder, ScienceQaReader.SplitsFile));
        return Read(ScienceQaName, problems, () =>
        {
            if (!File.Exists(problems))
                throw new DatasetFormatException(problems, null, null, "not found; a ScienceQA folder holds problems.json and pid_splits.json");
            if (!File.Exists(splits))
                throw new DatasetFormatException(splits, null, null,
                    $"not found; ScienceQA needs pid_splits.json beside {Path.GetFileName(problems)} to check the splits, so copy it from the same release");
            // The official release keeps the pictures under images/{split}/{pid}/ beside problems.json.
            var officialImages = Path.Combine(folder, ScienceQaReader.ImagesFolder);
            var images = ImageResolver.For(Directory.Exists(officialImages) ? officialImages : folder, options, requiredByDefault: false);
            return new LoadedDataset(folder, "scienceqa", ScienceQaReader.Read(problems, splits, images), [], images.Root);
        });
    }

    /// <summary>
    /// Loads a folder written by <see cref="DatasetWriter"/>. The samples come from provenance.jsonl (it keeps
    /// families, skills and steps), checked record by record against llava.json, which a trainer consumes.
    /// </summary>
    public static LoadedDataset LoadFailureSynth(string directory, DatasetReadOptions? options = null)
    {
        var folder = Path.GetFullPath(directory);
        return Read(FailureSynthName, folder, () => ReadFailureSynth(folder, options));
    }

    /// <summary>
    /// Loads LLaMA-Factory data through its dataset_info.json: every entry's file, laid out as the entry's formatting,
    /// columns and tags say. With several entries, sample ids are prefixed with the entry name ("{name}/{id}").
    /// Image paths resolve against the folder of dataset_info.json, as LLaMA-Factory's default media folder does.
    /// </summary>
    public static LoadedDataset LoadLlamaFactoryInfo(string datasetInfoPath, DatasetReadOptions? options = null)
    {
        var full = Path.GetFullPath(datasetInfoPath);
        return Read(LlamaFactoryReader.FormatOfInfo, full, () =>
        {
            var entries = LlamaFactoryReader.ReadInfo(full);
            var images = ImageResolver.For(Path.GetDirectoryName(full)!, options, requiredByDefault: true);
            var warnings = new List<string>();
            var samples = new List<VqaSample>();
            foreach (var entry in entries)
            {
                var read = LlamaFactoryReader.Read(entry.File, entry.Layout, images, warnings);
                samples.AddRange(entries.Count == 1 ? read : read.Select(s => s with { Id = entry.Name + "/" + s.Id }));
            }

            var formats = entries.Select(e => e.Layout.Formatting).Distinct(StringComparer.Ordinal).ToList();
            return new LoadedDataset(full, "llamafactory-" + string.Join("+", formats), samples, warnings, images.Root);
        });
    }

    /// <summary>
    /// Loads one LLaMA-Factory data file (.json array or .jsonl) without its dataset_info.json; the layout (alpaca or
    /// sharegpt, and the message tags) is taken from the first record.
    /// </summary>
    public static LoadedDataset LoadLlamaFactoryFile(string path, DatasetReadOptions? options = null)
    {
        var full = Path.GetFullPath(path);
        return Read("LLaMA-Factory", full, () =>
        {
            var images = ImageResolver.For(Path.GetDirectoryName(full)!, options, requiredByDefault: true);
            var warnings = new List<string>();
            var samples = LlamaFactoryReader.Read(full, null, images, warnings);
            return new LoadedDataset(full, "llamafactory", samples, warnings, images.Root);
        });
    }

    private static LoadedDataset ReadFailureSynth(string folder, DatasetReadOptions? options)
    {
        var llavaPath = Path.Combine(folder, DatasetLayout.LlavaFile);
        if (!File.Exists(llavaPath))
            throw new DatasetFormatException(llavaPath, null, null, "not found; a FailureSynth dataset folder always has llava.json, so the folder is incomplete or not a dataset");
        var images = ImageResolver.For(folder, options, requiredByDefault: true);
        var warnings = new List<string>();
        var llava = LlavaReader.Read(llavaPath, images, warnings);

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

    private const string FailureSynthName = "FailureSynth dataset";
    private const string LlavaName = "LLaVA JSON";
    private const string JsonlName = "FailureSynth JSONL";
    private const string VqaV2Name = "VQA v2";
    private const string ScienceQaName = "ScienceQA";

    /// <summary>
    /// Runs a reader and names the format in whatever it refuses, so every message says how the file was read.
    /// Files are checked to be UTF-8 before parsing; an escaped lone surrogate still fails only when its string is
    /// decoded, which must come out as a message about the file too.
    /// </summary>
    private static LoadedDataset Read(string format, string path, Func<LoadedDataset> read)
    {
        try
        {
            return read();
        }
        catch (DatasetFormatException e)
        {
            throw e.WithFormat(format);
        }
        catch (InvalidOperationException e) when (e.InnerException is System.Text.DecoderFallbackException)
        {
            throw new DatasetFormatException(path, null, null,
                "holds an escaped character that is not valid Unicode (a lone surrogate such as \\ud800); replace or remove it", inner: e, format: format);
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
            $"cannot find its VQA v2 {wanted} file beside it ({found}); put the {wanted} file of the same split next to it (the official names are v2_OpenEnded_mscoco_<split>_questions.json and v2_mscoco_<split>_annotations.json)");
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

    /// <summary>The first bytes of a file, enough to tell its format; <c>Whole</c> when that is the entire file.</summary>
    private static (byte[] Bytes, bool Whole) FirstBytes(string path)
    {
        const int Limit = 1 << 20;
        try
        {
            using var stream = File.OpenRead(path);
            var buffer = new byte[(int)Math.Min(Limit, stream.Length)];
            var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return (buffer[..read], stream.Length <= Limit);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetFormatException(path, null, null, $"cannot be opened ({e.Message}); check that the file exists and is readable", inner: e);
        }
    }

    private static int FirstSignificantByte(byte[] bytes)
    {
        foreach (var b in bytes)
        {
            // Skip whitespace and a UTF-8 byte-order mark.
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF or 0xBB or 0xBF) continue;
            return b;
        }

        return -1;
    }

    /// <summary>alpaca's instruction/output or sharegpt's message list: LLaMA-Factory's own layouts.</summary>
    private static bool IsLlamaFactoryRecord(HashSet<string> keys) =>
        keys.Contains("messages") || keys.Contains("conversations") || keys.Contains("instruction") || keys.Contains("output");

    /// <summary>
    /// The property names of the first record (the first array element, or the first non-blank line of JSONL), read
    /// from the start of the file without parsing the rest; empty when that start is not readable JSON (the reader
    /// of the chosen format then reports the problem precisely).
    /// </summary>
    private static HashSet<string> FirstRecordKeys(byte[] head, bool jsonl)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var text = JsonFiles.WithoutBom(head).Span;
        if (jsonl)
        {
            while (text.Length > 0)
            {
                var end = text.IndexOf((byte)'\n');
                var line = end < 0 ? text : text[..end];
                if (!JsonFiles.IsBlank(line))
                {
                    text = line;
                    break;
                }

                text = end < 0 ? [] : text[(end + 1)..];
            }
        }

        var recordDepth = jsonl ? 0 : 1;
        var reader = new System.Text.Json.Utf8JsonReader(text, isFinalBlock: false, state: default);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == System.Text.Json.JsonTokenType.PropertyName && reader.CurrentDepth == recordDepth + 1)
                    keys.Add(reader.GetString()!);
                if (reader.TokenType == System.Text.Json.JsonTokenType.EndObject && reader.CurrentDepth == recordDepth) break;
            }
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            // Not readable as JSON from the start: the chosen reader says where and why.
        }

        return keys;
    }
}
