using System.Globalization;
using System.IO.Compression;
using FailureSynth.Imaging;
using FailureSynth.World.Scenes;

namespace FailureSynth.World.Rendering;

/// <summary>
/// Draws a ShapesWorld <see cref="Scene"/> as a square RGB image: background (plus optional
/// per-pixel noise), then each object in list order, anti-aliased by 4 × 4 supersampling of its
/// edge pixels. Only IEEE double arithmetic and square roots in a fixed order are used, so a scene
/// gives the same bytes on every run and machine.
/// </summary>
public static class SceneRasterizer
{
    public const int DefaultSize = 64;
    public const int MinSize = 16;
    public const int MaxSize = 1024;

    /// <summary>Subsamples per pixel side: 4 × 4 = 16 coverage levels at object edges.</summary>
    public const int SamplesPerSide = 4;

    private const int SamplesPerPixel = SamplesPerSide * SamplesPerSide;

    // Every subsample lies within 0.375·√2 ≈ 0.530 px of its pixel centre and every signed distance
    // below changes by at most 1 per pixel moved, so a pixel whose centre is further than this from an
    // edge has all its subsamples on one side: it is fully in or fully out without sampling.
    private const double UniformCoverageMargin = 0.54;

    // Stream id under the scene's noise seed, so background noise never shares a stream with other draws.
    private const long NoiseStream = 0x4E4F495345; // "NOISE"

    /// <summary>Renders <paramref name="scene"/> at <paramref name="size"/> × <paramref name="size"/> pixels.</summary>
    public static RgbImage Render(Scene scene, int size = DefaultSize)
    {
        Validate(scene, size);
        var image = new RgbImage(size, size);
        PaintBackground(image, scene);
        foreach (SceneObject obj in scene.Objects)
            Draw(image, obj);
        return image;
    }

    /// <summary>
    /// PNG settings for renders. Filter None beats adaptive filtering on these flat-coloured images:
    /// measured on 64 × 64 renders, 944 vs 1,196 bytes without noise and 5,387 vs 6,590 with 6 % noise,
    /// and about twice as fast, because deflate finds the repeated colour runs directly.
    /// </summary>
    public static PngEncoderOptions PngOptions { get; } = new(CompressionLevel.Optimal, PngRowFilter.None);

    /// <summary>Renders <paramref name="scene"/> and encodes it as PNG with <see cref="PngOptions"/>.</summary>
    public static byte[] RenderPng(Scene scene, int size = DefaultSize) => PngEncoder.Encode(Render(scene, size), PngOptions);

    private static void PaintBackground(RgbImage image, Scene scene)
    {
        var background = SceneGeometry.Background;
        image.Fill(background);
        if (scene.NoiseAmplitude == 0)
            return;

        // One luminance offset per pixel, uniform in ±amplitude·255, drawn in row-major order; the same
        // offset on all three channels keeps the background's hue.
        DeterministicRandom random = DeterministicRandom.Derive(scene.NoiseSeed, NoiseStream);
        double scale = scene.NoiseAmplitude * 255.0;
        byte[] pixels = image.Pixels;
        for (int i = 0; i < pixels.Length; i += RgbImage.BytesPerPixel)
        {
            int offset = (int)Math.Floor((random.NextDouble() * 2.0 - 1.0) * scale + 0.5);
            pixels[i] = (byte)Math.Clamp(background.R + offset, 0, 255);
            pixels[i + 1] = (byte)Math.Clamp(background.G + offset, 0, 255);
            pixels[i + 2] = (byte)Math.Clamp(background.B + offset, 0, 255);
        }
    }

    private static void Draw(RgbImage image, SceneObject obj)
    {
        int size = image.Width;
        double cx = obj.X * size, cy = obj.Y * size, r = obj.Radius * size;
        var outline = new ShapeOutline(obj.Shape, r);
        var color = SceneGeometry.Rgb(obj.Color);

        // Only pixels that can touch the bounding circle are visited; clamping in double first keeps
        // objects far outside the image from overflowing the int conversion.
        int x0 = (int)Math.Clamp(Math.Floor(cx - r) - 1, 0, size);
        int x1 = (int)Math.Clamp(Math.Ceiling(cx + r) + 1, -1, size - 1);
        int y0 = (int)Math.Clamp(Math.Floor(cy - r) - 1, 0, size);
        int y1 = (int)Math.Clamp(Math.Ceiling(cy + r) + 1, -1, size - 1);

        byte[] pixels = image.Pixels;
        for (int y = y0; y <= y1; y++)
        {
            double dy = y + 0.5 - cy;
            for (int x = x0; x <= x1; x++)
            {
                double dx = x + 0.5 - cx;
                double distance = outline.SignedDistance(dx, dy);
                if (distance >= UniformCoverageMargin)
                    continue;
                int covered = distance <= -UniformCoverageMargin ? SamplesPerPixel : CountCoveredSamples(outline, dx, dy);
                if (covered > 0)
                    Blend(pixels, (y * size + x) * RgbImage.BytesPerPixel, color, covered);
            }
        }
    }

    private static int CountCoveredSamples(in ShapeOutline outline, double dx, double dy)
    {
        int covered = 0;
        for (int sy = 0; sy < SamplesPerSide; sy++)
        {
            double sampleY = dy + SampleOffset(sy);
            for (int sx = 0; sx < SamplesPerSide; sx++)
            {
                if (outline.SignedDistance(dx + SampleOffset(sx), sampleY) <= 0)
                    covered++;
            }
        }
        return covered;
    }

    /// <summary>Offset of subsample <paramref name="i"/> from the pixel centre: -0.375, -0.125, 0.125, 0.375 (exact in binary).</summary>
    private static double SampleOffset(int i) => (i + 0.5) / SamplesPerSide - 0.5;

    /// <summary>Mixes the object colour over what is there in proportion covered / 16, in integers, rounding half up.</summary>
    private static void Blend(byte[] pixels, int i, (byte R, byte G, byte B) color, int covered)
    {
        if (covered == SamplesPerPixel)
        {
            pixels[i] = color.R;
            pixels[i + 1] = color.G;
            pixels[i + 2] = color.B;
            return;
        }
        int rest = SamplesPerPixel - covered;
        pixels[i] = (byte)((pixels[i] * rest + color.R * covered + SamplesPerPixel / 2) / SamplesPerPixel);
        pixels[i + 1] = (byte)((pixels[i + 1] * rest + color.G * covered + SamplesPerPixel / 2) / SamplesPerPixel);
        pixels[i + 2] = (byte)((pixels[i + 2] * rest + color.B * covered + SamplesPerPixel / 2) / SamplesPerPixel);
    }

    private static void Validate(Scene scene, int size)
    {
        ArgumentNullException.ThrowIfNull(scene);
        if (size is < MinSize or > MaxSize)
            throw new ArgumentOutOfRangeException(nameof(size), size,
                $"image size must be between {MinSize} and {MaxSize} pixels (images are square); pass a size in that range");
        if (scene.Objects is null)
            throw new ArgumentException("Scene.Objects is null; pass an empty list for a scene without objects.", nameof(scene));
        if (!(scene.NoiseAmplitude >= 0 && scene.NoiseAmplitude <= 1))
            throw new ArgumentException(
                $"Scene.NoiseAmplitude is {scene.NoiseAmplitude.ToString(CultureInfo.InvariantCulture)}; it must be between 0 and 1 " +
                "(a fraction of the 0-255 range), 0 for a flat background.", nameof(scene));
        for (int i = 0; i < scene.Objects.Count; i++)
        {
            SceneObject? obj = scene.Objects[i];
            if (obj is null)
                throw new ArgumentException($"Scene.Objects[{i}] is null; remove it or pass an object.", nameof(scene));
            if (!double.IsFinite(obj.X) || !double.IsFinite(obj.Y))
                throw new ArgumentException(
                    $"Scene.Objects[{i}] has centre ({obj.X.ToString(CultureInfo.InvariantCulture)}, {obj.Y.ToString(CultureInfo.InvariantCulture)}); " +
                    "coordinates must be finite numbers (normalised, 0 to 1 inside the image).", nameof(scene));
            if (!Enum.IsDefined(obj.Shape) || !Enum.IsDefined(obj.Color) || !Enum.IsDefined(obj.Size))
                throw new ArgumentException(
                    $"Scene.Objects[{i}] has shape {obj.Shape}, colour {obj.Color}, size {obj.Size}: a value outside the ShapesWorld enums " +
                    $"(shapes: {string.Join(", ", Enum.GetNames<ObjectShape>())}; colours: {string.Join(", ", Enum.GetNames<ObjectColor>())}; " +
                    $"sizes: {string.Join(", ", Enum.GetNames<ObjectSize>())}).", nameof(scene));
        }
    }
}
