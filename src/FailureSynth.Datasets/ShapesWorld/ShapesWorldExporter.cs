using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Rendering;

namespace FailureSynth.Datasets.ShapesWorld;

/// <summary>The folder layouts a ShapesWorld export can take.</summary>
public enum ShapesWorldFormat
{
    /// <summary>A FailureSynth dataset folder (<see cref="DatasetWriter"/>): llava.json, provenance.jsonl, dataset_info.json, images/.</summary>
    FailureSynth,

    /// <summary>VQA v2's abstract-scenes layout (<see cref="VqaV2Writer"/>), open questions only.</summary>
    VqaV2,

    /// <summary>ScienceQA's layout (<see cref="ScienceQaWriter"/>), multiple-choice questions only.</summary>
    ScienceQa,
}

/// <summary>What to generate: a profile, how many samples, the seed, and how to render them.</summary>
/// <param name="Profile">A built-in profile's name or the path of a profile file (<see cref="ProfileFile"/>).</param>
/// <param name="Format">The folder layout to write.</param>
/// <param name="Split">The split the samples are written under (VQA v2's data_subtype, ScienceQA's split); null picks the format's default.</param>
public sealed record ShapesWorldExportRequest(
    string Profile,
    int Count,
    long Seed,
    string OutputDirectory,
    int ImageSize = SceneRasterizer.DefaultSize,
    QuestionForm Form = QuestionForm.Open,
    int Threads = 0,
    bool Overwrite = false,
    string? DatasetName = null,
    ShapesWorldFormat Format = ShapesWorldFormat.FailureSynth,
    string? Split = null)
{
    /// <summary>The split of a VQA v2 export when none is given: the abstract scenes' validation split.</summary>
    public const string DefaultVqaV2Split = "val2015";

    /// <summary>The split of a ScienceQA export when none is given.</summary>
    public const string DefaultScienceQaSplit = "test";

    /// <summary>The split the samples are written under: <see cref="Split"/> or the format's default (none for a FailureSynth folder).</summary>
    public string? EffectiveSplit => Format switch
    {
        ShapesWorldFormat.VqaV2 => Split ?? DefaultVqaV2Split,
        ShapesWorldFormat.ScienceQa => Split ?? DefaultScienceQaSplit,
        _ => null,
    };

    /// <summary>Checks every field and names the one that is wrong.</summary>
    public void Validate()
    {
        if (Count <= 0) throw new ArgumentException($"--count must be at least 1 (got {Count}).", nameof(Count));
        if (ImageSize is < SceneRasterizer.MinSize or > SceneRasterizer.MaxSize)
            throw new ArgumentException($"--size must be between {SceneRasterizer.MinSize} and {SceneRasterizer.MaxSize} pixels (got {ImageSize}).", nameof(ImageSize));
        if (Threads < 0) throw new ArgumentException($"--threads must be 0 (all cores) or more (got {Threads}).", nameof(Threads));
        if (string.IsNullOrWhiteSpace(OutputDirectory)) throw new ArgumentException("--out must name a folder.", nameof(OutputDirectory));
        if (Format == ShapesWorldFormat.VqaV2 && Form != QuestionForm.Open)
            throw new ArgumentException("--format vqav2 writes open-ended questions; leave --form out or use --form open.", nameof(Form));
        if (Format == ShapesWorldFormat.ScienceQa && Form != QuestionForm.Choice)
            throw new ArgumentException("--format scienceqa writes multiple-choice problems; leave --form out or use --form choice.", nameof(Form));
        if (Split is not null && Format == ShapesWorldFormat.FailureSynth)
            throw new ArgumentException("--split applies to --format vqav2 or scienceqa; a FailureSynth folder has no split.", nameof(Split));
        if (EffectiveSplit is { } split) VqaV2Writer.ValidateSplitName(split, "--split");
        _ = Profiles.Resolve(Profile); // throws with the list of known profiles, or names the bad key of a profile file
    }
}

/// <summary>What an export did, for the summary the CLI prints and for the generation benchmark.</summary>
public sealed record ShapesWorldExportResult(DatasetManifest Manifest, TimeSpan Elapsed, int Threads)
{
    public double SamplesPerSecond => Manifest.SampleCount / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// Generates a ShapesWorld dataset folder: samples, rendered PNGs, provenance JSONL and manifest.json, in the
/// FailureSynth layout (LLaVA JSON and dataset_info.json) or in VQA v2's or ScienceQA's official layout. Samples are
/// generated and rendered in parallel in fixed-size chunks, then written in index order, so the folder is
/// byte-identical for a given request whatever the thread count.
/// </summary>
public static class ShapesWorldExporter
{
    private const int ChunkSize = 512;

    public static ShapesWorldExportResult Export(ShapesWorldExportRequest request, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        request.Validate();
        int threads = request.Threads == 0 ? Environment.ProcessorCount : request.Threads;
        Profile profile = Profiles.Resolve(request.Profile);
        var generator = new WorldGenerator(profile, request.Form);
        // The profile's own name, not the path of its file: an exported built-in profile gives the same dataset.
        string name = request.DatasetName ?? $"shapesworld_{profile.Name}_{request.Seed}";
        var stopwatch = Stopwatch.StartNew();

        using var writer = ShapesWorldTarget.Open(request, name);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
        (WorldSample, DatasetRecord)[] BuildChunk(int start)
        {
            var chunk = new (WorldSample, DatasetRecord)[Math.Min(ChunkSize, request.Count - start)];
            Parallel.For(0, chunk.Length, parallel, i =>
            {
                WorldSample sample = generator.Generate(request.Seed, start + i);
                chunk[i] = (sample, CreateRecord(sample, request.ImageSize));
            });
            return chunk;
        }

        // Two-stage pipeline: while this thread writes chunk k in index order, chunk k+1 is
        // generated and rendered in the background. Writing order, not timing, fixes the output.
        Task<(WorldSample, DatasetRecord)[]> next = Task.Run(() => BuildChunk(0), cancellationToken);
        for (int start = 0; start < request.Count; start += ChunkSize)
        {
            (WorldSample, DatasetRecord)[] chunk = next.GetAwaiter().GetResult();
            int following = start + ChunkSize;
            if (following < request.Count)
                next = Task.Run(() => BuildChunk(following), cancellationToken);
            foreach ((WorldSample sample, DatasetRecord record) in chunk) writer.Add(sample, record);
            progress?.Report(start + chunk.Length);
        }
        DatasetManifest manifest = writer.Complete();
        return new ShapesWorldExportResult(manifest, stopwatch.Elapsed, threads);
    }

    /// <summary>The dataset record of one generated sample: its PNG and its full provenance.</summary>
    public static DatasetRecord CreateRecord(WorldSample sample, int imageSize)
    {
        byte[] png = SceneRasterizer.RenderPng(sample.Scene, imageSize);
        var vqa = new VqaSample(
            Id: sample.Id,
            Image: DatasetLayout.ImagePath(sample.Id),
            Question: sample.Question,
            Answer: sample.Answer,
            Choices: sample.Choices,
            AnswerText: sample.AnswerText,
            Family: sample.Family,
            Skills: sample.Skills,
            Steps: sample.Steps.Select(s => new SampleStep(s.Index, s.Question, s.Answer)).ToArray(),
            Source: "shapesworld");
        return new DatasetRecord(vqa, png, Provenance(sample, imageSize));
    }

    private static JsonObject Provenance(WorldSample sample, int imageSize) => new()
    {
        ["generator"] = "shapesworld",
        ["profile"] = sample.Profile,
        ["seed"] = sample.Seed,
        ["index"] = sample.Index,
        ["form"] = sample.Form.ToString().ToLowerInvariant(),
        ["image_size"] = imageSize,
        ["scene"] = JsonSerializer.SerializeToNode(sample.Scene, WorldJson.Options),
        ["program"] = JsonSerializer.SerializeToNode(sample.Program, WorldJson.Options),
        ["steps"] = JsonSerializer.SerializeToNode(sample.Steps, WorldJson.Options),
    };
}
