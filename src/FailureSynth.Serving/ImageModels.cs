using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using FailureSynth.Imaging;
using FailureSynth.World.Rendering;
using FailureSynth.World.Scenes;

namespace FailureSynth.Serving;

/// <summary>A model answering OpenAI <c>POST /v1/images/generations</c> requests with one square picture.</summary>
public interface IImageModel
{
    /// <summary>The id clients name in <c>model</c>.</summary>
    string Id { get; }

    /// <summary>A <paramref name="size"/> x <paramref name="size"/> picture of <paramref name="prompt"/>; a prompt it cannot draw is an <see cref="OpenAIRequestException"/>.</summary>
    Task<RgbImage> GenerateAsync(string prompt, int size, CancellationToken cancellationToken);
}

/// <summary>
/// ShapesWorld scenes as free-form image descriptions, in one fixed English form that <see cref="TryParse"/> reads back
/// exactly (coordinates in round-trip form): "A ShapesWorld picture on a plain light background: a large red circle
/// centred at (0.25, 0.4); a small blue square centred at (0.7, 0.3)." It is what the served teacher writes as an
/// image_description and what the served image model draws, so the described path is tested with exact ground truth.
/// </summary>
public static partial class SceneDescriptions
{
    private const string Opening = "A ShapesWorld picture on a plain light background: ";

    public static string Describe(Scene scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder(Opening);
        text.AppendJoin("; ", scene.Objects.Select(o => string.Create(inv,
            $"a {Word(o.Size)} {Word(o.Color)} {Word(o.Shape)} centred at ({o.X.ToString("R", inv)}, {o.Y.ToString("R", inv)})")));
        text.Append('.');
        if (scene.NoiseAmplitude != 0 || scene.NoiseSeed != 0)
            text.Append(inv, $" Background noise: seed {scene.NoiseSeed}, amplitude {scene.NoiseAmplitude.ToString("R", inv)}.");
        return text.ToString();
    }

    /// <summary>The scene a description in <see cref="Describe"/>'s form states, or the reason it is not one.</summary>
    public static bool TryParse(string description, out Scene? scene, out string? problem)
    {
        scene = null;
        var m = Whole().Match(description ?? "");
        if (!m.Success) { problem = "the description is not in the form 'A ShapesWorld picture on a plain light background: a SIZE COLOUR SHAPE centred at (X, Y); ....'"; return false; }
        var objects = new List<SceneObject>();
        foreach (string part in m.Groups["objects"].Value.Split("; "))
        {
            var o = Thing().Match(part);
            if (!o.Success || !Enum.TryParse(o.Groups["size"].Value, true, out ObjectSize size) || !Enum.TryParse(o.Groups["color"].Value, true, out ObjectColor color)
                || !Enum.TryParse(o.Groups["shape"].Value, true, out ObjectShape shape)
                || !double.TryParse(o.Groups["x"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double x)
                || !double.TryParse(o.Groups["y"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double y))
            {
                problem = $"'{ChatRequest.Clip(part)}' is not 'a SIZE COLOUR SHAPE centred at (X, Y)' with ShapesWorld's sizes, colours and shapes";
                return false;
            }
            if (!double.IsFinite(x) || !double.IsFinite(y) || x is < 0 or > 1 || y is < 0 or > 1) { problem = $"'{ChatRequest.Clip(part)}' lies outside the unit square"; return false; }
            objects.Add(new SceneObject(shape, color, size, x, y));
        }
        if (objects.Count > Scene.MaxObjects) { problem = $"{objects.Count} objects (at most {Scene.MaxObjects})"; return false; }
        int seed = 0;
        double amplitude = 0;
        if (m.Groups["seed"].Success && (!int.TryParse(m.Groups["seed"].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out seed)
            || !double.TryParse(m.Groups["amplitude"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out amplitude) || amplitude is < 0 or > 1 || !double.IsFinite(amplitude)))
        {
            problem = "the background noise must be an integer seed and an amplitude in [0, 1]";
            return false;
        }
        scene = new Scene(objects, seed, amplitude);
        problem = null;
        return true;
    }

    private static string Word<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    [GeneratedRegex(@"^A ShapesWorld picture on a plain light background: (?<objects>[^.;][^\n]*?)\.( Background noise: seed (?<seed>-?[0-9]{1,10}), amplitude (?<amplitude>[0-9.Ee+-]{1,30})\.)?$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Whole();

    [GeneratedRegex(@"^an? (?<size>[a-z]+) (?<color>[a-z]+) (?<shape>[a-z]+) centred at \((?<x>[0-9.Ee+-]{1,30}), (?<y>[0-9.Ee+-]{1,30})\)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Thing();
}

/// <summary>
/// The pictures a served ShapesWorld image model drew, by a hash of their pixels, with the scene each shows. A served teacher
/// given the same memory reads answers off those pictures exactly (it executes the question's program on the scene), as a
/// vision model would read them; a picture it did not draw it cannot read.
/// </summary>
public sealed class DrawnPictures
{
    private readonly ConcurrentDictionary<string, Scene> _scenes = new(StringComparer.Ordinal);

    public int Count => _scenes.Count;

    public void Add(RgbImage image, Scene scene) => _scenes[Key(image)] = scene;

    public Scene? Find(RgbImage image) => _scenes.TryGetValue(Key(image), out var scene) ? scene : null;

    private static string Key(RgbImage image) =>
        string.Create(CultureInfo.InvariantCulture, $"{image.Width}x{image.Height}:") + Convert.ToHexStringLower(SHA256.HashData(image.Pixels));
}

/// <summary>
/// The ShapesWorld rasteriser as an OpenAI-compatible image model: it draws descriptions in <see cref="SceneDescriptions"/>'
/// form and refuses any other prompt (400, <c>param: prompt</c>). The offline double of an image endpoint.
/// </summary>
public sealed class ShapesWorldImageModel(DrawnPictures? drawn = null) : IImageModel
{
    public const string ModelId = "shapesworld-rasterizer";

    public string Id => ModelId;

    public Task<RgbImage> GenerateAsync(string prompt, int size, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!SceneDescriptions.TryParse(prompt, out var scene, out var problem))
            throw ChatRequest.Invalid($"This model draws ShapesWorld scene descriptions only: {problem}.", "prompt", "invalid_prompt");
        var image = SceneRasterizer.Render(scene!, size);
        drawn?.Add(image, scene!);
        return Task.FromResult(image);
    }
}
