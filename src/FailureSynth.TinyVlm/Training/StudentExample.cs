using System.Text.Json;
using FailureSynth.Datasets;
using FailureSynth.Imaging;
using FailureSynth.World;
using FailureSynth.World.Questions;
using FailureSynth.World.Rendering;
using FailureSynth.World.Scenes;

namespace FailureSynth.TinyVlm.Training;

/// <summary>
/// One question about one image, as the student trains and is evaluated on it: RGB pixels, question,
/// gold answer, family, skills, reasoning steps with their exact answers, and (for ShapesWorld samples)
/// the program, which reasoning mode needs to phrase later steps from earlier answers, and the scene the
/// image was rendered from, which training uses to teach the image encoder where each object is and what
/// it looks like (see <see cref="SceneTargets"/>). Evaluation never reads the scene.
/// </summary>
public sealed record StudentExample(
    string Id,
    RgbImage Image,
    string Question,
    string Answer,
    string? Family,
    IReadOnlyList<string> Skills,
    IReadOnlyList<ExampleStep> Steps,
    QuestionProgram? Program,
    Scene? Scene = null)
{
    /// <summary>The example of a generated ShapesWorld sample, rendered at <paramref name="imageSize"/> pixels.</summary>
    public static StudentExample FromWorldSample(WorldSample sample, int imageSize = SceneRasterizer.DefaultSize) => new(
        sample.Id,
        SceneRasterizer.Render(sample.Scene, imageSize),
        sample.Question,
        sample.Answer,
        sample.Family,
        sample.Skills,
        [.. sample.Steps.Select(s => new ExampleStep(s.Question, s.Answer))],
        sample.Program,
        sample.Scene);
}

/// <summary>A reasoning step of an example: an atomic question about the same image and its exact answer.</summary>
public sealed record ExampleStep(string Question, string Answer);

/// <summary>Reads dataset folders into <see cref="StudentExample"/>s, decoding every image once.</summary>
public static class StudentExamples
{
    /// <summary>
    /// Every sample of the dataset at <paramref name="directory"/> with its decoded image (PNGs decoded on
    /// <paramref name="threads"/> threads). Samples without an image, or whose image is not
    /// <paramref name="imageSize"/> pixels square, are errors that name the file.
    /// </summary>
    public static IReadOnlyList<StudentExample> Load(string directory, int imageSize, int threads)
    {
        if (!Directory.Exists(directory) && !File.Exists(directory))
            throw new DirectoryNotFoundException($"Dataset '{directory}' does not exist; make one with `failuresynth world generate --out {directory}`.");
        var dataset = DatasetReader.Load(directory);
        var root = dataset.ImageRoot ?? (Directory.Exists(directory) ? directory : Path.GetDirectoryName(Path.GetFullPath(directory))!);
        var (programs, scenes) = ReadProvenance(directory);
        var samples = dataset.Samples;
        var examples = new StudentExample[samples.Count];
        Parallel.For(0, samples.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
        {
            var s = samples[i];
            if (s.Image is null)
                throw new InvalidDataException($"Dataset '{directory}': sample '{s.Id}' has no image; TinyVLM answers questions about images only.");
            var path = Path.Combine(root, s.Image);
            var image = PngDecoder.DecodeFile(path);
            if (image.Width != imageSize || image.Height != imageSize)
                throw new InvalidDataException($"Image '{path}' of sample '{s.Id}' is {image.Width}x{image.Height} pixels but the student takes {imageSize}x{imageSize}; generate the dataset with --size {imageSize}.");
            examples[i] = new StudentExample(
                s.Id,
                image,
                s.Question,
                s.Answer,
                s.Family,
                s.Skills ?? [],
                [.. (s.Steps ?? []).Select(step => new ExampleStep(step.Question, step.Answer))],
                programs.GetValueOrDefault(s.Id),
                scenes.GetValueOrDefault(s.Id));
        });
        return examples;
    }

    /// <summary>
    /// The ShapesWorld programs and scenes recorded in a dataset folder's provenance.jsonl, by sample id (empty if there
    /// is no such file; samples of other sources simply have neither).
    /// </summary>
    public static (IReadOnlyDictionary<string, QuestionProgram> Programs, IReadOnlyDictionary<string, Scene> Scenes) ReadProvenance(string directory)
    {
        var programs = new Dictionary<string, QuestionProgram>(StringComparer.Ordinal);
        var scenes = new Dictionary<string, Scene>(StringComparer.Ordinal);
        var path = Path.Combine(directory, DatasetLayout.ProvenanceFile);
        if (!File.Exists(path)) return (programs, scenes);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var record = JsonDocument.Parse(line);
            if (!record.RootElement.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                || !record.RootElement.TryGetProperty("provenance", out var provenance) || provenance.ValueKind != JsonValueKind.Object)
                continue;
            if (provenance.TryGetProperty("program", out var program) && program.ValueKind == JsonValueKind.Object)
                programs[id.GetString()!] = WorldJson.Deserialize<QuestionProgram>(program.GetRawText());
            if (provenance.TryGetProperty("scene", out var scene) && scene.ValueKind == JsonValueKind.Object)
            {
                try
                {
                    scenes[id.GetString()!] = SceneTargets.Checked(WorldJson.Deserialize<Scene>(scene.GetRawText()));
                }
                catch (Exception e) when (e is JsonException or ArgumentException)
                {
                    throw new InvalidDataException($"{path}, line {lineNumber}: the scene of sample '{id.GetString()}' is not a valid ShapesWorld scene ({e.Message}).", e);
                }
            }
        }

        return (programs, scenes);
    }

    /// <summary>Writes <paramref name="image"/> as NCHW floats in [-1, 1] into <paramref name="destination"/> (3 * S * S values).</summary>
    public static void WritePlanes(RgbImage image, Span<float> destination)
    {
        var plane = image.Width * image.Height;
        var pixels = image.Pixels;
        for (var i = 0; i < plane; i++)
        {
            destination[i] = pixels[3 * i] * (2f / 255f) - 1f;
            destination[plane + i] = pixels[3 * i + 1] * (2f / 255f) - 1f;
            destination[2 * plane + i] = pixels[3 * i + 2] * (2f / 255f) - 1f;
        }
    }
}
