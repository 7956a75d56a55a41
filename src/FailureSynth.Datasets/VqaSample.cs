namespace FailureSynth.Datasets;

/// <summary>One visual question with its answer: the common shape every reader produces and the writer consumes.</summary>
/// <param name="Id">Unique id within the dataset (LLaVA <c>id</c>, VQA v2 <c>question_id</c>, ScienceQA problem id).</param>
/// <param name="Image">Image path relative to the dataset's image root, or null for a text-only question.</param>
/// <param name="Question">Question text without the <c>&lt;image&gt;</c> token.</param>
/// <param name="Answer">Gold answer; for choice form the choice letter ("A", "B", ...).</param>
/// <param name="Choices">Options of a multiple-choice question, in letter order; null for open answers.</param>
/// <param name="AnswerText">For choice form: the text of the correct choice.</param>
/// <param name="Family">Question family (ShapesWorld family, VQA v2 <c>answer_type</c>, ScienceQA <c>subject</c>).</param>
/// <param name="Skills">Canonical skill keys the question exercises.</param>
/// <param name="Steps">Reasoning steps with their intermediate answers, when the source has them.</param>
/// <param name="Split">Split name (train/val/test, or the VQA v2 <c>data_subtype</c> such as train2014).</param>
/// <param name="Source">Reader that produced the sample: "failuresynth", "llava", "vqav2", "scienceqa", "jsonl" or "llamafactory".</param>
/// <param name="AllAnswers">VQA v2: all annotator answers (usually ten), kept for the soft VQA accuracy.</param>
/// <param name="Context">ScienceQA: the <c>hint</c> text that gives the question its context.</param>
public sealed record VqaSample(
    string Id,
    string? Image,
    string Question,
    string Answer,
    IReadOnlyList<string>? Choices = null,
    string? AnswerText = null,
    string? Family = null,
    IReadOnlyList<string>? Skills = null,
    IReadOnlyList<SampleStep>? Steps = null,
    string? Split = null,
    string Source = "",
    IReadOnlyList<string>? AllAnswers = null,
    string? Context = null);

/// <summary>One intermediate reasoning step of a sample: the sub-question and its exact answer.</summary>
public sealed record SampleStep(int Index, string Question, string Answer);

/// <summary>A dataset read completely into memory, with the warnings the reader raised about it.</summary>
/// <param name="Path">The file or folder that was loaded.</param>
/// <param name="Format">"failuresynth", "llava", "vqav2", "scienceqa", "jsonl", or "llamafactory" (with "-alpaca"/"-sharegpt" when read through dataset_info.json).</param>
/// <param name="ImageRoot">Folder that <see cref="VqaSample.Image"/> paths are relative to.</param>
public sealed record LoadedDataset(
    string Path,
    string Format,
    IReadOnlyList<VqaSample> Samples,
    IReadOnlyList<string> Warnings,
    string? ImageRoot = null);

/// <summary>The on-disk dataset formats that <see cref="DatasetReader"/> understands.</summary>
public enum DatasetFormat
{
    /// <summary>A folder written by <see cref="DatasetWriter"/>: llava.json, provenance.jsonl, manifest.json, images/.</summary>
    FailureSynth,

    /// <summary>LLaVA instruction JSON: a top-level array of records with <c>conversations</c>.</summary>
    Llava,

    /// <summary>VQA v2: an official questions file joined with its annotations file.</summary>
    VqaV2,

    /// <summary>ScienceQA: <c>problems.json</c> with <c>pid_splits.json</c>.</summary>
    ScienceQa,

    /// <summary>One <see cref="VqaSample"/>-shaped JSON object per line.</summary>
    Jsonl,

    /// <summary>LLaMA-Factory: a dataset_info.json and the alpaca or sharegpt .json/.jsonl files it names, or one such file.</summary>
    LlamaFactory,
}

/// <summary>How a reader resolves and checks the images that samples refer to.</summary>
/// <param name="ImageRoot">Folder image paths are relative to; null means the folder that holds the dataset file.</param>
/// <param name="RequireImages">
/// Whether a referenced image missing on disk is an error. Null picks the format's default: required for
/// FailureSynth folders, LLaVA JSON, JSONL and LLaMA-Factory data (their images live beside them), not for VQA v2 and ScienceQA
/// (their images ship as separate downloads, so <see cref="DatasetInspector"/> only counts the missing ones).
/// </param>
public sealed record DatasetReadOptions(string? ImageRoot = null, bool? RequireImages = null);
